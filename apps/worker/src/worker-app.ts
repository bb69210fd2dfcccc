import type { Server } from "node:http";
import {
  createPayloadCipher,
  createWorkerConnection,
  describeListenError,
  type Logger,
  OtpStore,
  type WorkerConfig,
  watchConnection,
} from "@otpin/core";
import { createEmailChannel, createSmsProviders } from "@otpin/providers";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import { createDeliveryChain, type DeliveryObserver, type ProviderBreakers } from "./delivery/index.js";
import { createDeliveryProcessor, createFailedJobRecorder, type ProcessorObserver } from "./delivery-processor.js";
import { closeWorkerGracefully, startDeliveryWorker } from "./delivery-worker.js";
import { startHealthServer } from "./health-server.js";
import { createWorkerTelemetry } from "./metrics/index.js";

export interface WorkerApp {
  worker: Worker;
  breakers: ProviderBreakers;
  healthUrl: string;
  /** The worker's metrics, served at `/metrics` on METRICS_PORT. */
  registry: Registry;
  /** Stops fetching, finishes in-flight jobs within SHUTDOWN_TIMEOUT_MS, then closes connections. */
  close(): Promise<void>;
}

export interface WorkerAppOptions {
  config: WorkerConfig;
  logger: Logger;
  observer?: DeliveryObserver & ProcessorObserver;
  stalledIntervalMs?: number;
  /** Prometheus registry for the worker metrics. Defaults to a new one per worker app. */
  registry?: Registry;
}

/** Wires config, providers, breakers, the processor, the BullMQ worker and the health server. */
export async function startWorkerApp(options: WorkerAppOptions): Promise<WorkerApp> {
  const { config, logger } = options;
  const connection: Redis = createWorkerConnection(config.REDIS_URL);
  const storeConnection: Redis = createWorkerConnection(config.REDIS_URL);
  // Logs each outage and recovery once, instead of ioredis printing every reconnect error.
  const unwatch = [watchConnection(connection, logger), watchConnection(storeConnection, logger)];
  const telemetry = createWorkerTelemetry({
    registry: options.registry,
    logger,
    observer: options.observer,
    connection: storeConnection,
    queuePrefix: config.QUEUE_PREFIX,
  });
  const { observer } = telemetry;

  // The health server starts before the worker fetches jobs, so a bad HOST or METRICS_PORT stops
  // start-up with nothing in flight.
  let closing = false;
  let worker: Worker | undefined;
  let health: { server: Server; url: string };
  try {
    health = await startHealthServer({
      host: config.HOST,
      port: config.METRICS_PORT,
      isReady: () => !closing && worker !== undefined && connection.status === "ready",
      registry: telemetry.registry,
    });
  } catch (error) {
    await telemetry.close();
    connection.disconnect();
    storeConnection.disconnect();
    for (const stop of unwatch) stop();
    const address = { hostVariable: "HOST", portVariable: "METRICS_PORT", host: config.HOST, port: config.METRICS_PORT };
    const problem = describeListenError(error, address);
    throw problem === undefined ? error : new Error(problem, { cause: error });
  }

  const store = new OtpStore(storeConnection, config.QUEUE_PREFIX);
  const email = createEmailChannel(config);
  const { chain, breakers } = createDeliveryChain(config, {
    providers: createSmsProviders(config),
    email,
    logger,
    observer,
  });
  telemetry.trackBreakers(breakers);
  const processor = createDeliveryProcessor({
    store,
    cipher: createPayloadCipher(config.OTP_SECRET, config.OTP_SECRET_PREVIOUS),
    chain,
    logger,
    appName: config.APP_NAME,
    ttlSeconds: config.OTP_TTL_SECONDS,
    observer,
  });
  const recordFailedJob = createFailedJobRecorder({ store, logger, observer });
  // Recordings still running at shutdown finish before the store's connection closes.
  const recording = new Set<Promise<void>>();
  const started = startDeliveryWorker({
    config,
    connection,
    processor,
    logger,
    stalledIntervalMs: options.stalledIntervalMs,
    onFailed(job, error) {
      const pending = recordFailedJob(job, error).finally(() => recording.delete(pending));
      recording.add(pending);
      return pending;
    },
  });
  worker = started;

  return {
    worker: started,
    breakers,
    healthUrl: health.url,
    registry: telemetry.registry,
    async close() {
      if (closing) return;
      closing = true;
      const finished = await closeWorkerGracefully(started, config.SHUTDOWN_TIMEOUT_MS, logger);
      if (!finished) {
        // Jobs still running, or Redis unreachable: QUIT would wait behind them, so the sockets are
        // dropped now and every Redis call still pending fails at once.
        connection.disconnect();
        storeConnection.disconnect();
      }
      await Promise.allSettled(recording);
      breakers.shutdown();
      await email?.close();
      await new Promise<void>((resolve) => health.server.close(() => resolve()));
      await telemetry.close();
      if (finished) await Promise.allSettled([connection.quit(), storeConnection.quit()]);
      for (const stop of unwatch) stop();
    },
  };
}
