import { DELIVERY_QUEUE, OtpStore } from "@otpin/core";
import { Worker, type WorkerOptions } from "bullmq";
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

/**
 * Starts a worker that never runs a processor: it takes jobs with getNextJob and never renews or releases
 * their locks, like a worker killed by SIGKILL.
 */
function startDeadWorker(prefix: string, options: Partial<WorkerOptions>): Worker {
  deadConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  deadWorker = new Worker(DELIVERY_QUEUE, undefined, { connection: deadConnection, prefix, autorun: false, ...options });
  return deadWorker;
}

describe("a job whose worker died", () => {
  // The README states that a job whose worker dies runs again after WORKER_LOCK_DURATION_MS. The worker never
  // sets BullMQ's stalledInterval (default 30 s), so in a manual run the job waited about 60 s instead.
  it("reruns after the lock expires", { timeout: 30_000 }, async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const sent = await stack.send({ to: "+15005550006" });
    expect(sent.status).toBe(202);
    const id = String(sent.body.id);

    // It takes the job with a 2 s lock.
    const lockedJob = await startDeadWorker(stack.prefix, { lockDuration: 2000 }).getNextJob("dead-worker-token", {
      block: false,
    });
    expect(lockedJob?.id).toBe(id);

    // The healthy worker is started as main.ts starts it, without stalledIntervalMs.
    await stack.startWorker({ WORKER_LOCK_DURATION_MS: "2000" });
    const started = Date.now();
    const view = await stack.waitForStatus(id, ["sent", "failed"], 12_000);
    expect(view.status).toBe("sent");
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});

/**
 * Plays three workers that each take the job and die holding it. With maxStalledCount 2, as
 * delivery-worker.ts sets it, BullMQ then fails the job the next time any worker fetches it,
 * without running the processor.
 */
async function stallThreeTimes(testStack: TestStack, id: string): Promise<void> {
  const dead = startDeadWorker(testStack.prefix, { lockDuration: 300, stalledInterval: 100, maxStalledCount: 2 });
  // This worker's stalled checker returns each dead-held job to waiting once its lock expires.
  await dead.startStalledCheckTimer();
  for (let stall = 1; stall <= 3; stall += 1) {
    const taken = await dead.getNextJob(`dead-worker-${stall}`, { block: false });
    expect(taken?.id).toBe(id);
    const deadline = Date.now() + 5000;
    while ((await testStack.queue.getJobState(id)) !== "waiting") {
      if (Date.now() > deadline) throw new Error(`job ${id} was not returned to waiting after stall ${stall}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await dead.close(true);
}

describe("a job that stalls more often than the limit", () => {
  it("ends failed with a reason, not queued until it expires", { timeout: 30_000 }, async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const sent = await stack.send({ to: "+15005550006" });
    expect(sent.status).toBe(202);
    const id = String(sent.body.id);

    await stallThreeTimes(stack, id);
    await stack.startWorker();

    const view = await stack.waitForStatus(id, ["sent", "failed"], 10_000);
    expect(view.status).toBe("failed");
    expect(String(view.reason)).toContain("stopped mid-run on more than two workers");
    expect(await stack.queue.getJobState(id)).toBe("failed");
    expect(stack.simulator.requestCount()).toBe(0);
    // A dead run may have handed the code to a provider, so the user can still use it.
    const code = await stack.codeOf(id);
    expect((await stack.verify(id, code)).body).toEqual({ id, valid: true });
  });

  it("ends sent when an earlier run had handed the code to a provider", { timeout: 30_000 }, async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const sent = await stack.send({ to: "+15005550006" });
    expect(sent.status).toBe(202);
    const id = String(sent.body.id);
    // The first dead worker got the provider's acceptance on record, then died before finishing.
    await new OtpStore(stack.redis, stack.prefix).recordAcceptance(id, "twilio", "sms", `SM${"0".repeat(32)}`);

    await stallThreeTimes(stack, id);
    await stack.startWorker();

    const view = await stack.waitForStatus(id, ["sent", "failed"], 10_000);
    expect(view.status).toBe("sent");
    expect(view.reason).toBeUndefined();
    expect(stack.simulator.requestCount()).toBe(0);
  });
});
