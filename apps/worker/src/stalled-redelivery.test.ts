import { DELIVERY_QUEUE } from "@otpin/core";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { TEST_REDIS_URL, TestStack } from "./test-support/stack.js";

let stack: TestStack | undefined;
let deadWorker: Worker | undefined;
let deadConnection: Redis | undefined;

afterEach(async () => {
  await deadWorker?.close(true).catch(() => undefined);
  deadConnection?.disconnect();
  await stack?.close();
  stack = undefined;
  deadWorker = undefined;
  deadConnection = undefined;
});

describe("a job whose worker died", () => {
  // The README states that a job whose worker dies runs again after WORKER_LOCK_DURATION_MS. The worker never
  // sets BullMQ's stalledInterval (default 30 s), so in a manual run the job waited about 60 s instead.
  it("reruns after the lock expires", { timeout: 30_000 }, async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const sent = await stack.send({ to: "+15005550006" });
    expect(sent.status).toBe(202);
    const id = String(sent.body.id);

    // This worker plays one killed by SIGKILL. It takes the job with a 2 s lock and never renews or releases it.
    deadConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    deadWorker = new Worker(DELIVERY_QUEUE, undefined, {
      connection: deadConnection,
      prefix: stack.prefix,
      autorun: false,
      lockDuration: 2000,
    });
    const lockedJob = await deadWorker.getNextJob("dead-worker-token", { block: false });
    expect(lockedJob?.id).toBe(id);

    // The healthy worker is started as main.ts starts it, without stalledIntervalMs.
    await stack.startWorker({ WORKER_LOCK_DURATION_MS: "2000" });
    const started = Date.now();
    const view = await stack.waitForStatus(id, ["sent", "failed"], 12_000);
    expect(view.status).toBe("sent");
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});
