#!/usr/bin/env node
// Quick start: installs what is missing, builds, starts Redis (when none responds), the provider
// simulator, the API and the worker on local defaults, sends one OTP to a sample number, shows the
// SMS the simulator received and the verify result, then keeps the stack up until Ctrl-C.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { ensureDependencies, ensurePnpm, ensureRedis, log, root, run } from "./toolchain.mjs";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const API_PORT = Number(process.env.PORT ?? 3000);
const METRICS_PORT = Number(process.env.METRICS_PORT ?? 9091);
const SIMULATOR_PORT = Number(process.env.SIMULATOR_PORT ?? 4010);
const SAMPLE_NUMBER = process.env.DEMO_TO ?? "+15005550006";

// The simulator's built-in credentials; they are not secrets.
const SIMULATOR = {
  twilio: { sid: "AC0123456789abcdef0123456789abcdef", token: "sim-twilio-token" },
};

// The API requires a key. The demo mints one for this run and gives the API only its SHA-256,
// as `pnpm --filter @otpin/api mint-key` does.
const API_KEY = `otpin_${randomBytes(32).toString("base64url")}`;
const API_KEYS = `demo:${createHash("sha256").update(API_KEY).digest("hex")}`;

const children = [];

function start(name, script, env) {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const prefix = `[${name}] `;
  const forward = (stream, target) =>
    stream.on("data", (chunk) => {
      if (process.env.DEMO_VERBOSE === "1") target.write(prefix + chunk.toString().replace(/\n(?=.)/g, `\n${prefix}`));
    });
  forward(child.stdout, process.stdout);
  forward(child.stderr, process.stderr);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      log(`${name} exited (code ${code}, signal ${signal}); stopping the demo. Rerun with DEMO_VERBOSE=1 to see its output.`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = exitCode;
  for (const child of children.reverse()) child.kill("SIGTERM");
  setTimeout(() => process.exit(exitCode), 1500).unref();
}

/** Rejects when something already listens on 127.0.0.1:`port`, naming the variable that moves it. */
async function assertPortFree(port, variable) {
  const inUse = await new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
  if (inUse) throw new Error(`port ${port} is already in use; stop that process or set ${variable} to a free port`);
}

async function waitFor(url, label, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${label} did not become ready at ${url} within ${timeoutMs / 1000} s`);
}

async function json(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(url.startsWith(`http://127.0.0.1:${API_PORT}/`) ? { authorization: `Bearer ${API_KEY}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function main() {
  const pnpm = ensurePnpm();
  ensureDependencies(pnpm);
  log("building the workspace");
  run([...pnpm, "run", "build"], { stdio: ["ignore", "ignore", "inherit"] });

  await assertPortFree(SIMULATOR_PORT, "SIMULATOR_PORT");
  await assertPortFree(API_PORT, "PORT");
  await assertPortFree(METRICS_PORT, "METRICS_PORT");
  const redis = await ensureRedis(REDIS_URL);
  if (redis) children.push(redis);

  const simulatorUrl = `http://127.0.0.1:${SIMULATOR_PORT}`;
  const apiUrl = `http://127.0.0.1:${API_PORT}`;
  const workerUrl = `http://127.0.0.1:${METRICS_PORT}`;
  const shared = { REDIS_URL, DEMO_MODE: "true", QUEUE_PREFIX: "otpin-demo", LOG_LEVEL: "info", HOST: "127.0.0.1" };

  start("simulator", "packages/simulator/dist/main.js", { SIMULATOR_PORT: String(SIMULATOR_PORT) });
  await waitFor(`${simulatorUrl}/healthz`, "simulator");
  // With PUBLIC_BASE_URL set, the simulator sends signed delivery receipts back to the API.
  const receipts = { PUBLIC_BASE_URL: apiUrl, TWILIO_AUTH_TOKEN: SIMULATOR.twilio.token };
  // The demo's own send would put the sample number in its 30 s cooldown, so the printed curl
  // command would get 429; the demo relaxes both per-number limits.
  const demoLimits = { RECIPIENT_HOURLY_LIMIT: "100", RECIPIENT_COOLDOWN_SECONDS: "0" };
  start("api", "apps/api/dist/main.js", { ...shared, ...receipts, ...demoLimits, PORT: String(API_PORT), API_KEYS });
  start("worker", "apps/worker/dist/main.js", {
    ...shared,
    PUBLIC_BASE_URL: apiUrl,
    METRICS_PORT: String(METRICS_PORT),
    SMS_PROVIDERS: "twilio",
    TWILIO_ACCOUNT_SID: SIMULATOR.twilio.sid,
    TWILIO_AUTH_TOKEN: SIMULATOR.twilio.token,
    TWILIO_FROM: "+15005550006",
    TWILIO_API_URL: simulatorUrl,
  });
  await waitFor(`${apiUrl}/readyz`, "api");
  await waitFor(`${workerUrl}/healthz`, "worker");

  console.log(`\n1. POST ${apiUrl}/v1/otp {"to":"${SAMPLE_NUMBER}"}`);
  const sent = await json("POST", `${apiUrl}/v1/otp`, { to: SAMPLE_NUMBER });
  console.log(`   ${sent.status} ${JSON.stringify(sent.body)}`);
  if (sent.status !== 202) throw new Error("the API did not accept the sample request");

  const message = await waitForMessage(simulatorUrl, SAMPLE_NUMBER, sent.body.id);
  console.log(`\n2. The simulator received this SMS through the Twilio SDK:`);
  console.log(`   from ${message.from} to ${message.to} via ${message.provider}: "${message.body}"`);

  const code = /\b(\d{4,10})\b/.exec(message.body)?.[1];
  console.log(`\n3. POST ${apiUrl}/v1/otp/${sent.body.id}/verify {"code":"${code}"}`);
  const verified = await json("POST", `${apiUrl}/v1/otp/${sent.body.id}/verify`, { code });
  console.log(`   ${verified.status} ${JSON.stringify(verified.body)}`);

  const status = await waitForReceipt(apiUrl, sent.body.id);
  console.log(`\n4. GET ${apiUrl}/v1/otp/${sent.body.id}`);
  console.log(`   ${status.status} ${JSON.stringify(status.body)}`);

  console.log(`
otpin is running (Ctrl-C stops everything):
  API               ${apiUrl}   (POST /v1/otp, POST /v1/otp/:id/verify, GET /v1/otp/:id)
  Worker            ${workerUrl}/healthz, ${workerUrl}/metrics
  Simulator inbox   ${simulatorUrl}/
  Redis             ${REDIS_URL}${redis ? " (private, started by the demo)" : ""}
  API key (this run)  ${API_KEY}
Try: curl -s -X POST ${apiUrl}/v1/otp -H 'authorization: Bearer ${API_KEY}' -H 'content-type: application/json' -d '{"to":"${SAMPLE_NUMBER}"}'`);
}

/** Polls the verification until the provider's delivery receipt arrived, for at most 3 s. */
async function waitForReceipt(apiUrl, otpId) {
  const deadline = Date.now() + 3000;
  let view = await json("GET", `${apiUrl}/v1/otp/${otpId}`);
  while (view.body.delivery?.status === "submitted" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    view = await json("GET", `${apiUrl}/v1/otp/${otpId}`);
  }
  return view;
}

async function waitForMessage(simulatorUrl, to, otpId, timeoutMs = 15_000) {
  const since = Date.now();
  while (Date.now() - since < timeoutMs) {
    const { body } = await json("GET", `${simulatorUrl}/messages?to=${encodeURIComponent(to)}`);
    const latest = body.messages.at(-1);
    if (latest && Date.parse(latest.receivedAt) >= since - 5000) return latest;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no SMS for ${otpId} reached the simulator within ${timeoutMs / 1000} s; rerun with DEMO_VERBOSE=1`);
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
main().catch((error) => {
  log(`demo failed: ${error.message}`);
  stop(1);
});
