import { DELIVERY_QUEUE, type Logger } from "@otpin/core";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { Registry } from "prom-client";
import { fanOutObservers, type WorkerObserver } from "./observer-fanout.js";
import { registerQueueGauges } from "./queue-gauges.js";
import { type BreakerStateSource, WorkerMetrics } from "./worker-metrics.js";

export interface WorkerTelemetryOptions {
  /** Registry to fill; defaults to a new one, so two workers in one process never share metrics. */
  registry?: Registry;
  logger: Logger;
  /** An extra observer (tests pass one); it receives every hook after the metrics. */
  observer?: WorkerObserver;
  /** Connection the queue gauges read through; the caller keeps ownership. */
  connection: Redis;
  queuePrefix: string;
}

/** The worker's registry, the observer to hand to the chain and processor, and what to close. */
export interface WorkerTelemetry {
  registry: Registry;
  observer: WorkerObserver;
  /** Reports these breakers' states in `otp_circuit_state`. */
  trackBreakers(breakers: BreakerStateSource): void;
  close(): Promise<void>;
}

/** Creates the worker's metrics and queue gauges on one registry. */
export function createWorkerTelemetry(options: WorkerTelemetryOptions): WorkerTelemetry {
  const registry = options.registry ?? new Registry();
  const metrics = new WorkerMetrics(registry);
  const queue = new Queue(DELIVERY_QUEUE, { connection: options.connection, prefix: options.queuePrefix });
  // Without a listener an "error" event would throw; the worker's own connection logs outages already.
  queue.on("error", (err) => options.logger.debug({ err }, "queue metrics connection error"));
  registerQueueGauges(registry, queue, { logger: options.logger });
  return {
    registry,
    observer: fanOutObservers(options.logger, metrics, options.observer),
    trackBreakers: (breakers) => metrics.trackBreakers(breakers),
    close: () => queue.close(),
  };
}
