import { parseBehaviourScript } from "./behaviour-schema.js";
import type { SimulatorLogger } from "./context.js";
import { type Simulator, startSimulator } from "./server.js";

/** Port the CLI listens on when SIMULATOR_PORT is unset. */
export const DEFAULT_PORT = 4010;

/** Reads SIMULATOR_PORT, where 0 picks a free port. */
function readPort(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`SIMULATOR_PORT "${value}" is not a port number from 0 to 65535`);
  }
  return port;
}

/**
 * Starts a simulator configured by environment variables: HOST (default 127.0.0.1),
 * SIMULATOR_PORT (default 4010) and SIMULATOR_SCRIPT (JSON object from provider name to behaviour).
 *
 * Rejects with Error for an invalid port and with InvalidBehaviourError for an invalid script.
 */
export async function startFromEnvironment(env: NodeJS.ProcessEnv, logger?: SimulatorLogger): Promise<Simulator> {
  const script = env.SIMULATOR_SCRIPT;
  return startSimulator({
    host: env.HOST || "127.0.0.1",
    port: readPort(env.SIMULATOR_PORT),
    behaviour: script === undefined || script === "" ? {} : parseBehaviourScript(script),
    ...(logger === undefined ? {} : { logger }),
  });
}
