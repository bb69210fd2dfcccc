import { type Logger, METRIC_NAMES } from "@otpin/core";
import { Gauge, type Registry } from "prom-client";

/** Queue states reported in `otp_queue_jobs{state}`. */
export const QUEUE_STATES = ["waiting", "active", "delayed", "failed"] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** The part of a BullMQ `Queue` the gauges read. */
export interface QueueStatsSource {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  /** BullMQ returns the oldest waiting job first for `getWaiting(0, 0)`. */
  getWaiting(start?: number, end?: number): Promise<{ timestamp: number; processedOn?: number }[]>;
}

export interface QueueGaugeOptions {
  /** Maximum time a scrape waits for Redis, in milliseconds. Default 1000. */
  timeoutMs?: number;
  now?: () => number;
  logger?: Logger;
}

interface QueueSnapshot {
  counts: Record<QueueState, number>;
  oldestWaitingSeconds: number;
}

const DEFAULT_TIMEOUT_MS = 1000;
const SNAPSHOT_REUSE_MS = 500;

/**
 * Registers `otp_queue_jobs{state}` and `otp_queue_oldest_waiting_seconds`, read from the queue
 * at scrape time. A scrape waits at most `timeoutMs` for Redis. When Redis does not reply in
 * time, the job counts have no samples and the age is NaN, rather than stale numbers. A read
 * still in flight is reused by the next scrape, so a Redis outage never piles up queue reads.
 */
export function registerQueueGauges(registry: Registry, queue: QueueStatsSource, options: QueueGaugeOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  let inflight: Promise<QueueSnapshot> | undefined;
  let last: { at: number; value: QueueSnapshot } | undefined;

  const snapshot = async (): Promise<QueueSnapshot | undefined> => {
    // Both gauges collect in the same scrape; the second one reuses the first one's read.
    if (last !== undefined && now() - last.at < SNAPSHOT_REUSE_MS) return last.value;
    inflight ??= readSnapshot(queue, now).finally(() => {
      inflight = undefined;
    });
    try {
      const value = await withTimeout(inflight, timeoutMs);
      last = { at: now(), value };
      return value;
    } catch (err) {
      options.logger?.warn({ err, timeoutMs }, "queue metrics unavailable");
      return undefined;
    }
  };

  const jobs: Gauge<"state"> = new Gauge({
    name: METRIC_NAMES.queueJobs,
    help: "Delivery jobs in the queue, by state.",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const current = await snapshot();
      jobs.reset();
      if (current === undefined) return;
      for (const state of QUEUE_STATES) jobs.set({ state }, current.counts[state]);
    },
  });
  const oldest: Gauge = new Gauge({
    name: METRIC_NAMES.queueOldestWaiting,
    help: "Age of the oldest waiting delivery job, in seconds; 0 when none waits.",
    registers: [registry],
    async collect() {
      const current = await snapshot();
      // A gauge without labels always has a sample, so an unknown age is NaN rather than a stale number.
      oldest.set(current === undefined ? Number.NaN : current.oldestWaitingSeconds);
    },
  });
}

async function readSnapshot(queue: QueueStatsSource, now: () => number): Promise<QueueSnapshot> {
  const [raw, waiting] = await Promise.all([queue.getJobCounts(...QUEUE_STATES), queue.getWaiting(0, 0)]);
  const counts = {
    // BullMQ reports the waiting list under "wait" or "waiting" depending on how it was asked.
    waiting: raw.waiting ?? raw.wait ?? 0,
    active: raw.active ?? 0,
    delayed: raw.delayed ?? 0,
    failed: raw.failed ?? 0,
  };
  const job = waiting[0];
  // A retried job keeps its first timestamp; its last run start is closer to when it began waiting again.
  const since = job === undefined ? undefined : Math.max(job.timestamp, job.processedOn ?? 0);
  return { counts, oldestWaitingSeconds: since === undefined ? 0 : Math.max(0, (now() - since) / 1000) };
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue read took longer than ${timeoutMs}ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
