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
  const host = env.HOST || "127.0.0.1";
  const port = readPort(env.SIMULATOR_PORT);
  try {
    return await startSimulator({
      host,
      port,
      behaviour: script === undefined || script === "" ? {} : parseBehaviourScript(script),
      ...(logger === undefined ? {} : { logger }),
    });
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
    if (code === "EADDRINUSE") {
      throw new Error(`SIMULATOR_PORT=${port} is already in use on ${host}; stop the other process or choose a free port`, {
        cause: error,
      });
    }
    if (code === "ENOTFOUND" || code === "EADDRNOTAVAIL") {
      throw new Error(`HOST=${host} is not an address of this machine; use 127.0.0.1`, { cause: error });
    }
    throw error;
  }
}
