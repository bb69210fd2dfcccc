import { randomUUID } from "node:crypto";
import { DELIVERY_QUEUE } from "@otpin/core";
import { deleteKeys } from "@otpin/core/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterEach, describe, expect, test } from "vitest";
import { TEST_REDIS_URL } from "../test-support/stack.js";
import { type QueueStatsSource, registerQueueGauges } from "./queue-gauges.js";

let cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function realQueue(): Promise<Queue> {
  const prefix = `test-${randomUUID()}`;
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(DELIVERY_QUEUE, { connection: redis, prefix });
  cleanup.push(async () => {
    await queue.close();
    await deleteKeys(redis, `${prefix}:*`);
    redis.disconnect();
  });
  return queue;
}

describe("queue gauges", () => {
  test("report job counts by state and the oldest waiting job's age", async () => {
    const queue = await realQueue();
    await queue.add("deliver", { n: 1 });
    await queue.add("deliver", { n: 2 });
    await queue.add("deliver", { n: 3 }, { delay: 60_000 });
    const oldest = (await queue.getWaiting(0, -1)).reduce((min, job) => Math.min(min, job.timestamp), Number.POSITIVE_INFINITY);
    const registry = new Registry();
    registerQueueGauges(registry, queue, { now: () => oldest + 42_000 });

    const text = await registry.metrics();

    expect(sample(text, 'otp_queue_jobs{state="waiting"}')).toBe(2);
    expect(sample(text, 'otp_queue_jobs{state="delayed"}')).toBe(1);
    expect(sample(text, 'otp_queue_jobs{state="active"}')).toBe(0);
    expect(sample(text, 'otp_queue_jobs{state="failed"}')).toBe(0);
    expect(sample(text, "otp_queue_oldest_waiting_seconds")).toBe(42);
  });

  test("report zero age for an empty queue", async () => {
    const queue = await realQueue();
    const registry = new Registry();
    registerQueueGauges(registry, queue);

    const text = await registry.metrics();

    expect(sample(text, 'otp_queue_jobs{state="waiting"}')).toBe(0);
    expect(sample(text, "otp_queue_oldest_waiting_seconds")).toBe(0);
  });

  test("report no data when Redis times out", async () => {
    let reads = 0;
    const hanging: QueueStatsSource = {
      getJobCounts: () => {
        reads += 1;
        return new Promise(() => {});
      },
      getWaiting: () => new Promise(() => {}),
    };
    const registry = new Registry();
    registerQueueGauges(registry, hanging, { timeoutMs: 50 });

    const started = Date.now();
    const first = await registry.metrics();
    const second = await registry.metrics();

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(first).toContain("# TYPE otp_queue_jobs gauge");
    expect(sample(first, 'otp_queue_jobs{state="waiting"}')).toBeUndefined();
    expect(sample(second, "otp_queue_oldest_waiting_seconds")).toBeNaN();
    // The hung read is reused instead of piling up a new one per scrape.
    expect(reads).toBe(1);
  });
});
