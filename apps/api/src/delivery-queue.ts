import { DELIVERY_JOB, DELIVERY_QUEUE, type DeliveryJobData, type Logger } from "@otpin/core";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { isRedisUnavailableError } from "./redis-guard.js";

export interface DeliveryQueueOptions {
  connection: Redis;
  prefix: string;
  attempts: number;
  backoffMs: number;
  logger: Logger;
}

/**
 * Producer side of the delivery queue. BullMQ's connection set-up fails for good when Redis drops
 * during its start-up version check, so a queue whose set-up failed is replaced on the next call.
 */
export class DeliveryQueue {
  private queue: Queue<DeliveryJobData>;
  private closed = false;

  constructor(private readonly options: DeliveryQueueOptions) {
    this.queue = this.createQueue();
  }

  /** Waits until the queue's connection is set up, and rejects if the set-up failed. */
  async waitUntilReady(): Promise<void> {
    const queue = this.queue;
    try {
      await queue.waitUntilReady();
    } catch (error) {
      if (!this.closed && this.queue === queue) this.replace(queue, error);
      throw error;
    }
  }

  /** Adds a delivery job whose id is the verification id, with the configured retries and exponential backoff. */
  async add(data: DeliveryJobData): Promise<void> {
    await this.queue.add(DELIVERY_JOB, data, {
      jobId: data.otpId,
      attempts: this.options.attempts,
      backoff: { type: "exponential", delay: this.options.backoffMs },
    });
  }

  /**
   * Adds a follow-up job under its own id, with the same retries. BullMQ ignores an add whose id
   * already exists, so a repeated call (a retried webhook) adds nothing. Returns false in that case.
   */
  async addFollowUp(jobId: string, data: DeliveryJobData): Promise<boolean> {
    // The lookup only reports which case this was to the caller; the add stays safe if it races.
    const existing = await this.queue.getJob(jobId);
    await this.queue.add(DELIVERY_JOB, data, {
      jobId,
      attempts: this.options.attempts,
      backoff: { type: "exponential", delay: this.options.backoffMs },
    });
    return existing === undefined;
  }

  /** Removes a job, for cleanup after a failed request. Returns false when no job was removed. */
  async remove(jobId: string): Promise<boolean> {
    return (await this.queue.remove(jobId)) === 1;
  }

  /** Closes the queue. A connection passed in is left open for its owner to close. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.close();
  }

  private createQueue(): Queue<DeliveryJobData> {
    const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
      connection: this.options.connection,
      prefix: this.options.prefix,
    });
    queue.on("error", (error) => {
      // The connection watcher already logs each outage once, so only errors of another kind are logged here.
      if (!isRedisUnavailableError(error)) this.options.logger.warn({ err: error }, "delivery queue error");
    });
    return queue;
  }

  private replace(broken: Queue<DeliveryJobData>, error: unknown): void {
    this.options.logger.warn({ err: error }, "delivery queue set-up failed; creating a new queue");
    this.queue = this.createQueue();
    broken.close().catch((closeError: unknown) => {
      this.options.logger.debug({ err: closeError }, "closing the failed delivery queue failed");
    });
  }
}
