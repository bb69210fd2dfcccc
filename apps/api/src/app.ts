import { type ApiConfig, createLogger, createProducerConnection, type Logger } from "@otpin/core";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import { watchConnection } from "./connection-watch.js";
import { DeliveryQueue } from "./delivery-queue.js";
import { handleFrameworkError, registerErrorHandling } from "./error-handler.js";
import { OtpService } from "./otp-service.js";
import { RequestLogController } from "./request-log.js";
import { healthRoutes } from "./routes/health.js";
import { otpRoutes } from "./routes/otp.js";

export interface BuildApiOptions {
  config: ApiConfig;
  /** pino logger for the app and its requests. Defaults to a new one at LOG_LEVEL. */
  logger?: Logger;
  /** Redis connection to use instead of creating one. The caller keeps ownership and closes it. */
  redis?: Redis;
  /** Prometheus registry for the API metrics. NOTE: accepted but not used yet. */
  registry?: Registry;
  /** Current time in epoch milliseconds. Defaults to Date.now. */
  clock?: () => number;
}

/**
 * Builds the HTTP API. Each call creates its own Redis connection (unless one is passed), delivery
 * queue and routes, and closing the returned instance closes what it created.
 */
export async function buildApi(options: BuildApiOptions): Promise<FastifyInstance> {
  const { config } = options;
  const logger = options.logger ?? createLogger("otpin-api", config.LOG_LEVEL);
  const ownsRedis = options.redis === undefined;
  // In-flight commands are not resent after a reconnect: the client that sent them got its 503 long ago.
  const redis =
    options.redis ??
    createProducerConnection(config.REDIS_URL, config.REDIS_COMMAND_TIMEOUT_MS, { autoResendUnfulfilledCommands: false });
  const unwatch = watchConnection(redis, logger);
  const queue = new DeliveryQueue({
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    attempts: config.JOB_ATTEMPTS,
    backoffMs: config.JOB_BACKOFF_MS,
    logger,
  });
  const service = new OtpService({ config, redis, queue, logger, clock: options.clock ?? Date.now });

  const app = Fastify({
    // pino's Logger type has fields FastifyBaseLogger lacks. Typing it as the base keeps FastifyInstance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new RequestLogController(),
    bodyLimit: config.BODY_LIMIT_BYTES,
    frameworkErrors: handleFrameworkError,
  });

  app.addHook("onClose", async () => {
    await queue.close();
    unwatch();
    if (ownsRedis) await closeConnection(redis);
  });
  // fastify parses text/plain by default. Without that parser it rejects text/plain with 415 on every route.
  app.removeContentTypeParser("text/plain");
  registerErrorHandling(app, config.BODY_LIMIT_BYTES);
  await app.register(otpRoutes, { service, config });
  await app.register(healthRoutes, { redis, timeoutMs: config.REDIS_COMMAND_TIMEOUT_MS });
  return app;
}

async function closeConnection(redis: Redis): Promise<void> {
  // QUIT needs a live connection, so while Redis is down it would wait for the command timeout.
  if (redis.status !== "ready") {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
