import { type ApiConfig, ConfigError, createLogger, describeListenError, loadApiConfig, redactConfig } from "@otpin/core";
import { buildApi } from "./app.js";

/** How long shutdown may take before the process exits anyway, in milliseconds. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

function loadConfigOrExit(): ApiConfig {
  try {
    return loadApiConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`otpin api: ${error.message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger("otpin-api", config.LOG_LEVEL);
  logger.info({ config: redactConfig(config) }, "api starting");

  const app = await buildApi({ config, logger });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "api stopping");
    setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, "api shutdown timed out; exiting");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    app.close().then(
      () => {
        logger.info("api stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "api shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);

  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    const problem = describeListenError(error, {
      hostVariable: "HOST",
      portVariable: "PORT",
      host: config.HOST,
      port: config.PORT,
    });
    if (problem === undefined) throw error;
    process.stderr.write(`otpin api: failed to start: ${problem}\n`);
    await app.close().catch(() => undefined);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `otpin api: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
