import { DELIVERY_QUEUE, type Logger, type WorkerConfig } from "@otpin/core";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { DeliveryJobResult } from "./delivery-processor.js";

export interface DeliveryWorkerOptions {
  config: Pick<
    WorkerConfig,
    | "QUEUE_PREFIX"
    | "WORKER_CONCURRENCY"
    | "WORKER_LOCK_DURATION_MS"
    | "JOB_RETENTION_COMPLETED_COUNT"
    | "JOB_RETENTION_FAILED_COUNT"
    | "JOB_RETENTION_SECONDS"
  >;
  connection: Redis;
  processor: (job: import("bullmq").Job) => Promise<DeliveryJobResult>;
  logger: Logger;
  /** Overrides BullMQ's stalled-job check interval; tests shorten it. */
  stalledIntervalMs?: number;
  /** Called for each failed attempt, after BullMQ has either scheduled a retry or failed the job. */
  onFailed?: (job: import("bullmq").Job, error: Error) => Promise<void>;
}

/** Starts the BullMQ worker for delivery jobs, with retention bounded by age and count. */
export function startDeliveryWorker(options: DeliveryWorkerOptions): Worker {
  const { config, logger } = options;
  const worker = new Worker(DELIVERY_QUEUE, options.processor, {
    connection: options.connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    // A job whose worker died is found at the next stalled check after its lock expired, so the
    // check runs as often as the lock lasts (BullMQ's default is every 30 s whatever the lock).
    stalledInterval: options.stalledIntervalMs ?? Math.min(config.WORKER_LOCK_DURATION_MS, 30_000),
    // Redelivery is safe because an acceptance is recorded before anything else, so a job may
    // stall twice (two worker crashes) before BullMQ fails it without running it.
    maxStalledCount: 2,
    removeOnComplete: { age: config.JOB_RETENTION_SECONDS, count: config.JOB_RETENTION_COMPLETED_COUNT },
    removeOnFail: { age: config.JOB_RETENTION_SECONDS, count: config.JOB_RETENTION_FAILED_COUNT },
  });

  worker.on("failed", (job, error) => {
    // Reasons are built from error classes and provider codes only, so they are safe to log.
    logger.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, reason: error.message }, "delivery job failed");
    if (job !== undefined && options.onFailed !== undefined) {
      options.onFailed(job, error).catch((err: unknown) => {
        logger.error({ err, jobId: job.id }, "could not record the outcome of a failed delivery job");
      });
    }
  });
  worker.on("stalled", (jobId) => logger.warn({ jobId }, "delivery job stalled, it will run again"));
  worker.on("error", (error) => logger.error({ err: error }, "delivery worker error"));
  return worker;
}

/**
 * Stops fetching new jobs and waits for in-flight ones within `timeoutMs`. Returns false when jobs
 * were still running at the deadline. Those keep their lock until it expires, and BullMQ then
 * moves them back to waiting for another worker.
 */
export async function closeWorkerGracefully(worker: Worker, timeoutMs: number, logger: Logger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const closing = worker.close().then(() => "closed" as const);
  // BullMQ's close(true) during a pending close() returns that same promise, so it cannot end the
  // wait. The caller drops the connections instead, and a late rejection of this close is expected.
  closing.catch((err: unknown) => logger.debug({ err }, "worker close ended after the shutdown budget"));
  const result = await Promise.race([closing, timedOut]);
  clearTimeout(timer);
  if (result === "timeout") {
    logger.warn({ timeoutMs }, "shutdown budget exceeded: jobs still running or Redis unreachable, closing without them");
    return false;
  }
  return true;
}
