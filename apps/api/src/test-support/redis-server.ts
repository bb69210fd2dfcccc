import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

/**
 * A private `redis-server` on 127.0.0.1, without persistence, that a test can stop and restart.
 * DEBUG is enabled for local clients so a test can block the server with DEBUG SLEEP.
 */
export class PrivateRedisServer {
  private process: ChildProcess | undefined;
  private readonly directory = mkdtempSync(join(tmpdir(), "otpin-api-redis-"));

  private constructor(readonly port: number) {}

  /** Starts a server on a free port and waits until it replies to PING. */
  static async start(): Promise<PrivateRedisServer> {
    const server = await PrivateRedisServer.reserve();
    await server.restart();
    return server;
  }

  /** Picks a free port without starting the server. Call `restart` to start it. */
  static async reserve(): Promise<PrivateRedisServer> {
    return new PrivateRedisServer(await freePort());
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port, with an empty dataset. */
  async restart(): Promise<void> {
    if (this.process !== undefined) throw new Error("redis-server is already running");
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.directory,
        "--enable-debug-command",
        "local",
      ],
      { stdio: "ignore" },
    );
    this.process = child;
    await waitForPing(this.port);
  }

  /** Kills the server by its PID and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.pid === undefined) return;
    this.process = undefined;
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid, "SIGKILL");
    await exited;
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("could not read the ephemeral port");
  return address.port;
}

async function waitForPing(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
      // Not listening yet.
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${port} did not reply to PING within 5 s`);
}
