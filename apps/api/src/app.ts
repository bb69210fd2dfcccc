import {
  type ApiConfig,
  createLogger,
  createProducerConnection,
  deriveKeys,
  type Logger,
  OtpStore,
  watchConnection,
} from "@otpin/core";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import { handleClientError } from "./client-error.js";
import { DeliveryQueue } from "./delivery-queue.js";
import { handleFrameworkError, registerErrorHandling } from "./error-handler.js";
import { createApiMetrics, metricsReceiptEvents, metricsSecurityEvents, registerApiMetrics } from "./metrics.js";
import { OtpService } from "./otp-service.js";
import { RequestLogController } from "./request-log.js";
import { healthRoutes } from "./routes/health.js";
import { otpRoutes } from "./routes/otp.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { resolveApiKeys } from "./security/api-keys.js";
import { registerApiKeyAuth } from "./security/auth.js";
import { trustProxyOption } from "./security/client-ip.js";
import { IdempotencyStore } from "./security/idempotency.js";
import { redisClock } from "./security/rate-limiter.js";
import type { SecurityEvents } from "./security/security-events.js";
import { SendGuard } from "./security/send-guard.js";
import type { ReceiptEvents } from "./webhooks/receipt-events.js";
import { createReceiptProviders } from "./webhooks/receipt-provider.js";
import { ReceiptService } from "./webhooks/receipt-service.js";

export interface BuildApiOptions {
  config: ApiConfig;
  /** pino logger for the app and its requests. Defaults to a new one at LOG_LEVEL. */
  logger?: Logger;
  /** Redis connection to use instead of creating one. The caller keeps ownership and closes it. */
  redis?: Redis;
  /** Prometheus registry for the API metrics, served at `/metrics`. Defaults to a new one per app. */
  registry?: Registry;
  /** Current time in epoch milliseconds. Defaults to Date.now. */
  clock?: () => number;
  /**
   * Time the send limits and spend budgets count in, in epoch milliseconds. Defaults to Redis's
   * clock (TIME), which all replicas share; tests pass a clock they can move.
   */
  limitClock?: () => number | Promise<number>;
  /** Told about every request refused for a security reason (metrics hook). Defaults to no-ops. */
  securityEvents?: SecurityEvents;
  /** Told about every delivery receipt handled, with provider and outcome (metrics hook). Defaults to no-ops. */
  receiptEvents?: ReceiptEvents;
}

/**
 * Builds the HTTP API. Each call creates its own Redis connection (unless one is passed), delivery
 * queue and routes, and closing the returned instance closes what it created.
 */
export async function buildApi(options: BuildApiOptions): Promise<FastifyInstance> {
  const { config } = options;
  const logger = options.logger ?? createLogger("otpin-api", config.LOG_LEVEL);
  // Resolved first: a missing API_KEYS stops start-up before any connection is opened.
  const apiKeys = resolveApiKeys(config);
  const apiMetrics = createApiMetrics(options.registry);
  const securityEvents = metricsSecurityEvents(apiMetrics, options.securityEvents);
  const { lookupKey } = deriveKeys(config.OTP_SECRET);
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
  const guard = new SendGuard(config, redis, lookupKey, securityEvents);
  const service = new OtpService({
    config,
    redis,
    queue,
    logger,
    clock: options.clock ?? Date.now,
    limitClock: options.limitClock ?? (() => redisClock(redis)),
    guard,
  });
  const idempotency = new IdempotencyStore(
    redis,
    config.QUEUE_PREFIX,
    lookupKey,
    securityEvents,
    2 * config.REDIS_COMMAND_TIMEOUT_MS,
    config.REDIS_COMMAND_TIMEOUT_MS,
  );

  const app = Fastify({
    // pino's Logger type has fields FastifyBaseLogger lacks. Typing it as the base keeps FastifyInstance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new RequestLogController(),
    bodyLimit: config.BODY_LIMIT_BYTES,
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
    // Which proxies may set X-Forwarded-For; `request.ip` is the end user's address only behind them.
    trustProxy: trustProxyOption(config.TRUST_PROXY),
  });

  app.addHook("onClose", async () => {
    await queue.close();
    unwatch();
    if (ownsRedis) await closeConnection(redis);
  });
  // fastify parses text/plain by default. Without that parser it rejects text/plain with 415 on every route.
  app.removeContentTypeParser("text/plain");
  registerErrorHandling(app, config.BODY_LIMIT_BYTES);
  // Before the routes, so its root-level hooks count their responses.
  registerApiMetrics(app, apiMetrics);
  // After the metrics hooks, so refused requests are still counted there.
  registerApiKeyAuth(app, apiKeys, securityEvents);
  await app.register(otpRoutes, { service, config, idempotency });
  await app.register(healthRoutes, { redis, timeoutMs: config.REDIS_COMMAND_TIMEOUT_MS });
  await app.register(webhookRoutes, {
    config,
    providers: createReceiptProviders(config),
    receipts: new ReceiptService({
      store: new OtpStore(redis, config.QUEUE_PREFIX),
      queue,
      logger,
      events: metricsReceiptEvents(apiMetrics, options.receiptEvents),
      clock: options.clock ?? Date.now,
      redis,
      timeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
      // A receipt that beats the worker's submission record is kept as long as the code is valid.
      heldReceiptTtlMs: config.OTP_TTL_SECONDS * 1000,
    }),
  });
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
