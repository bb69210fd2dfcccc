import { ConfigError, createLogger, loadWorkerConfig, redactConfig } from "@otpin/core";
import { startWorkerApp } from "./worker-app.js";

/** Time allowed after SHUTDOWN_TIMEOUT_MS for closing connections and servers before a forced exit. */
const SHUTDOWN_GRACE_MS = 5000;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadWorkerConfig>;
  try {
    config = loadWorkerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`otpin worker: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger("otpin-worker", config.LOG_LEVEL);
  if (config.DEMO_MODE) logger.warn("DEMO_MODE is on: a built-in OTP_SECRET is in use; never run it in production");
  logger.info({ config: redactConfig(config) }, "worker starting");
  const app = await startWorkerApp({ config, logger });
  logger.info({ healthUrl: app.healthUrl, concurrency: config.WORKER_CONCURRENCY }, "worker started");

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "worker stopping");
    // close() gives up on running jobs after SHUTDOWN_TIMEOUT_MS; this bounds the cleanup after it.
    setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS + SHUTDOWN_GRACE_MS }, "worker shutdown timed out; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + SHUTDOWN_GRACE_MS).unref();
    app
      .close()
      .then(() => {
        logger.info("worker stopped");
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, "worker shutdown failed");
        process.exit(1);
      });
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`otpin worker: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
