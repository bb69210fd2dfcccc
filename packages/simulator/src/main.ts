import { pino } from "pino";
import { startFromEnvironment } from "./environment.js";

async function main(): Promise<void> {
  const logger = pino({ name: "simulator", level: process.env.LOG_LEVEL ?? "info", base: { service: "simulator" } });
  const simulator = await startFromEnvironment(process.env, logger);
  logger.info({ url: simulator.url }, "simulator listening");

  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, "simulator stopping");
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "simulator close failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
