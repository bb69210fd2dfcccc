// Helpers shared by the demo and test commands: find or install pnpm, install dependencies,
// and make sure a Redis server responds. They only use Node's standard library, so they run on a
// fresh clone before anything is installed.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";

export const PNPM_VERSION = "10.34.9";
export const root = new URL("..", import.meta.url).pathname;

function commandWorks(command, args) {
  const result = spawnSync(command, args, { stdio: "pipe", encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Returns the command line that runs pnpm 10, installing it with npm when it is missing. */
export function ensurePnpm() {
  const version = commandWorks("pnpm", ["--version"]);
  if (version?.startsWith("10.")) return ["pnpm"];
  log(`installing pnpm@${PNPM_VERSION} with npm`);
  const installed = spawnSync("npm", ["install", "--global", `pnpm@${PNPM_VERSION}`], { stdio: "inherit" });
  if (installed.status === 0 && commandWorks("pnpm", ["--version"])?.startsWith("10.")) return ["pnpm"];
  log("global install failed (no permission?); running pnpm through npx instead");
  return ["npx", "--yes", `pnpm@${PNPM_VERSION}`];
}

export function run(commandLine, options = {}) {
  const [command, ...args] = commandLine;
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, ...options });
  if (result.status !== 0) throw new Error(`command failed (exit ${result.status}): ${commandLine.join(" ")}`);
}

/** Installs workspace dependencies unless node_modules is newer than the lockfile. */
export function ensureDependencies(pnpm) {
  const marker = join(root, "node_modules", ".modules.yaml");
  const lockfile = join(root, "pnpm-lock.yaml");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lockfile).mtimeMs) return;
  run([...pnpm, "install", "--frozen-lockfile"]);
}

/** Resolves true when a Redis server replies to PING at the URL within one second. */
export function redisAnswers(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname || "127.0.0.1", port: Number(port || 6379) });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/** Finds redis-server, installing Debian's package when running as root and it is missing. */
export function findRedisServer() {
  if (commandWorks("redis-server", ["--version"]) !== undefined) return "redis-server";
  if (process.getuid?.() === 0 && commandWorks("apt-get", ["--version"]) !== undefined) {
    log("redis-server not found; installing Debian's redis-server package");
    spawnSync("apt-get", ["update"], { stdio: "inherit" });
    spawnSync("apt-get", ["install", "-y", "redis-server"], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (commandWorks("redis-server", ["--version"]) !== undefined) return "redis-server";
  }
  throw new Error("no Redis responds at REDIS_URL and redis-server is not installed; install Redis 6.2+ or set REDIS_URL");
}

/**
 * Makes sure a Redis server responds at `url`. When none does, starts a private, non-persistent
 * redis-server on that port (bound to 127.0.0.1) and returns its process so the caller can stop it.
 */
export async function ensureRedis(url) {
  if (await redisAnswers(url)) return undefined;
  const { hostname, port } = new URL(url);
  if (!["127.0.0.1", "localhost", ""].includes(hostname)) throw new Error(`no Redis responds at ${url}`);
  const binary = findRedisServer();
  const dir = join(root, ".otpin", `redis-${port || 6379}`);
  mkdirSync(dir, { recursive: true });
  log(`starting a private redis-server on 127.0.0.1:${port || 6379}`);
  const child = spawn(
    binary,
    ["--port", String(port || 6379), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    {
      stdio: "ignore",
    },
  );
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (await redisAnswers(url)) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`redis-server did not respond at ${url} within 5 s`);
}

export function log(message) {
  process.stderr.write(`[otpin] ${message}\n`);
}

export { execFileSync };
