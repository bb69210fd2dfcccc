import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack } from "./test-support/stack.js";

// A private, non-persistent redis-server that the test kills and restarts on the same port, so the
// machine's shared Redis is never touched.
let port = 0;
let redisProcess: ChildProcess | undefined;
const directory = mkdtempSync(join(tmpdir(), "otpin-worker-redis-"));

async function startRedis(): Promise<void> {
  redisProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory],
    { stdio: "ignore" },
  );
  const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Refused connections are expected until the server listens; connect() rejects with them too.
  probe.on("error", () => undefined);
  try {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        await probe.connect();
        if ((await probe.ping()) === "PONG") return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`redis-server did not start on port ${port}`);
  } finally {
    probe.disconnect();
  }
}

async function killRedis(): Promise<void> {
  const child = redisProcess;
  redisProcess = undefined;
  if (child?.pid === undefined || child.exitCode !== null) return;
  const exited = once(child, "exit");
  process.kill(child.pid, "SIGKILL");
  await exited;
}

let stack: TestStack;

beforeAll(async () => {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  await startRedis();
  stack = await new TestStack({ redisUrl: `redis://127.0.0.1:${port}` }).start();
});

afterAll(async () => {
  await stack?.close();
  await killRedis();
  rmSync(directory, { recursive: true, force: true });
});

describe("redis restart", () => {
  it("rejects sends during the outage and delivers after it without a worker restart", async () => {
    const before = await stack.send({ to: "+15005550100" });
    expect(before.status).toBe(202);
    await stack.waitForStatus(String(before.body.id), ["sent"]);

    await killRedis();
    const started = Date.now();
    const during = await stack.send({ to: "+15005550101" });
    expect(during.status).toBe(503);
    expect((during.body.error as { code: string }).code).toBe("OTP_ERR_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(3000);

    await startRedis();
    // The API's connection reconnects on its own; retry the send until it is accepted.
    let after = await stack.send({ to: "+15005550102" });
    for (let attempt = 0; after.status === 503 && attempt < 30; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await stack.send({ to: "+15005550102" });
    }
    expect(after.status).toBe(202);
    await stack.waitForStatus(String(after.body.id), ["sent"], 15_000);

    expect(stack.simulator.messages({ to: "+15005550102" })).toHaveLength(1);
    expect(stack.simulator.messages({ to: "+15005550101" })).toHaveLength(0);
  });
});
