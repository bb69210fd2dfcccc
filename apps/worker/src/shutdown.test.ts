import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { createLogger, loadWorkerConfig } from "@otpin/core";
import { afterEach, describe, expect, it } from "vitest";
import { codeFrom, simulatorProviderEnv, TEST_SECRET, TestStack } from "./test-support/stack.js";
import { startWorkerApp } from "./worker-app.js";

let stack: TestStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("worker shutdown", () => {
  it("finishes in-flight jobs, fetches nothing new and leaves the failed one for retry", async () => {
    // Two jobs go through twilio and succeed; the GB one is routed to plivo, which fails after the
    // same delay, so it has attempts left when the worker stops.
    stack = await new TestStack({
      apiEnv: { JOB_ATTEMPTS: "3", JOB_BACKOFF_MS: "200" },
      workerEnv: {
        WORKER_CONCURRENCY: "3",
        SMS_PROVIDERS: "twilio",
        SMS_ROUTES: "GB=plivo",
        SHUTDOWN_TIMEOUT_MS: "10000",
        PROVIDER_TIMEOUT_MS: "5000",
        BREAKER_TIMEOUT_MS: "8000",
      },
    }).start();
    stack.simulator.setBehaviour("twilio", { latencyMs: 2000 });
    stack.simulator.setBehaviour("plivo", { latencyMs: 2000, failure: { status: 503 } });

    const ids: string[] = [];
    for (const to of ["+15005550100", "+15005550101", "+447400123456"]) ids.push(String((await stack.send({ to })).body.id));
    await expect.poll(async () => (await stack?.queue.getActiveCount()) ?? 0, { timeout: 5000, interval: 50 }).toBe(3);

    const closing = stack.worker.close();
    const started = Date.now();
    // A job enqueued after SIGTERM must stay waiting for another worker.
    const late = String((await stack.send({ to: "+15005550102" })).body.id);
    await closing;

    expect(Date.now() - started).toBeLessThan(10_000);
    const states = await Promise.all([...ids, late].map(async (id) => (await stack?.queue.getJob(id))?.getState()));
    expect(states.slice(0, 2)).toEqual(["completed", "completed"]);
    expect(["delayed", "waiting"]).toContain(states[2]);
    expect(states[3]).toBe("waiting");
    expect(await stack.queue.getActiveCount()).toBe(0);

    // A new worker sends the failed job exactly once and the late one too.
    stack.simulator.setBehaviour("plivo", {});
    stack.simulator.setBehaviour("twilio", {});
    await stack.startWorker({ SMS_PROVIDERS: "twilio", SMS_ROUTES: "GB=plivo" });
    await stack.waitForStatus(String(ids[2]), ["sent"]);
    await stack.waitForStatus(late, ["sent"]);
    expect(stack.simulator.messages({ to: "+447400123456" })).toHaveLength(1);
    expect(stack.simulator.messages({ to: "+15005550102" })).toHaveLength(1);
  });
});

describe("worker shutdown past its budget", () => {
  it("stops waiting at SHUTDOWN_TIMEOUT_MS and leaves the job to another worker", { timeout: 30_000 }, async () => {
    stack = await new TestStack({
      workerEnv: {
        SHUTDOWN_TIMEOUT_MS: "1000",
        WORKER_LOCK_DURATION_MS: "2000",
        PROVIDER_TIMEOUT_MS: "8000",
        BREAKER_TIMEOUT_MS: "10000",
      },
    }).start();
    stack.simulator.setBehaviour("twilio", { latencyMs: 5000 });
    const id = String((await stack.send({ to: "+15005550103" })).body.id);
    await expect.poll(async () => (await stack?.queue.getActiveCount()) ?? 0, { timeout: 5000, interval: 50 }).toBe(1);

    await stack.worker.close();

    // The provider keeps the request waiting for 5 s, so a close that waited for the job would find it completed.
    expect(await stack.queue.getJobState(id)).toBe("active");
    stack.simulator.setBehaviour("twilio", {});
    await stack.startWorker({ WORKER_LOCK_DURATION_MS: "2000" });
    expect((await stack.waitForStatus(id, ["sent", "failed"], 15_000)).status).toBe("sent");
    // At least once: the abandoned call may also reach the provider, but always with the same code.
    const codes = new Set(stack.simulator.messages({ to: "+15005550103" }).map((message) => codeFrom(message.body)));
    expect(codes.size).toBe(1);
  });
});

describe("worker shutdown without Redis", () => {
  it("still closes when Redis never answered", { timeout: 30_000 }, async () => {
    // A port that was free a moment ago: nothing listens there, so every Redis call waits to reconnect.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const config = loadWorkerConfig({
      OTP_SECRET: TEST_SECRET,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      METRICS_PORT: "0",
      SHUTDOWN_TIMEOUT_MS: "1000",
      ...simulatorProviderEnv("http://127.0.0.1:9"),
    });
    const app = await startWorkerApp({ config, logger: createLogger("test", "silent") });
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Before the fix, close() waited on BullMQ's close for as long as Redis stayed away.
    const outcome = await Promise.race([
      app.close().then(() => "closed" as const),
      new Promise<"still waiting">((resolve) => setTimeout(() => resolve("still waiting"), 15_000)),
    ]);

    expect(outcome).toBe("closed");
  });
});

describe("worker start-up", () => {
  it("names METRICS_PORT when the port is taken", async () => {
    const busy = createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    const port = (busy.address() as AddressInfo).port;
    try {
      stack = await new TestStack({ withoutWorker: true }).start();

      await expect(stack.startWorker({ METRICS_PORT: String(port) })).rejects.toThrow(`METRICS_PORT=${port} is already in use`);
    } finally {
      busy.close();
    }
  });
});
