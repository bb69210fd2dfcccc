import { PROVIDER_NAMES, type ProviderBehaviour, type ProviderName, type SimulatedFailure } from "./types.js";

/** Behaviour or script that does not match the `ProviderBehaviour` shape. */
export class InvalidBehaviourError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidBehaviourError";
  }
}

/** Longest accepted `latencyMs`: 10 minutes, far past any client timeout worth simulating. */
const MAX_LATENCY_MS = 600_000;
const BEHAVIOUR_KEYS = new Set(["latencyMs", "failure", "errorRate", "failNext", "throttleNext", "mode"]);
const FAILURE_KEYS = new Set(["status", "code", "message"]);
const MODES = new Set(["normal", "hang", "reset"]);

/** Checks whether a string names a simulated provider. */
export function isProviderName(value: string): value is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(value);
}

/**
 * Checks an untrusted value (a control request body, a script entry) against `ProviderBehaviour`.
 *
 * @throws InvalidBehaviourError naming the first invalid or unknown field.
 */
export function parseBehaviour(value: unknown, path = "behaviour"): ProviderBehaviour {
  const record = asRecord(value, path, BEHAVIOUR_KEYS);
  const behaviour: ProviderBehaviour = {};

  if (record.latencyMs !== undefined) behaviour.latencyMs = integerIn(record.latencyMs, `${path}.latencyMs`, 0, MAX_LATENCY_MS);
  if (record.failure !== undefined) behaviour.failure = parseFailure(record.failure, `${path}.failure`);
  if (record.errorRate !== undefined) behaviour.errorRate = rate(record.errorRate, `${path}.errorRate`);
  if (record.failNext !== undefined)
    behaviour.failNext = integerIn(record.failNext, `${path}.failNext`, 0, Number.MAX_SAFE_INTEGER);
  if (record.throttleNext !== undefined) {
    behaviour.throttleNext = integerIn(record.throttleNext, `${path}.throttleNext`, 0, Number.MAX_SAFE_INTEGER);
  }
  if (record.mode !== undefined) {
    if (typeof record.mode !== "string" || !MODES.has(record.mode)) {
      throw new InvalidBehaviourError(`${path}.mode must be "normal", "hang" or "reset"`);
    }
    behaviour.mode = record.mode as ProviderBehaviour["mode"];
  }
  return behaviour;
}

/**
 * Parses a behaviour script: a JSON object from provider name to behaviour, as in the
 * `SIMULATOR_SCRIPT` environment variable.
 *
 * @throws InvalidBehaviourError for malformed JSON, an unknown provider or an invalid behaviour.
 */
export function parseBehaviourScript(json: string): Partial<Record<ProviderName, ProviderBehaviour>> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidBehaviourError("behaviour script is not valid JSON");
  }
  const record = asRecord(value, "behaviour script", new Set(PROVIDER_NAMES));
  const script: Partial<Record<ProviderName, ProviderBehaviour>> = {};
  for (const provider of PROVIDER_NAMES) {
    if (record[provider] !== undefined) script[provider] = parseBehaviour(record[provider], provider);
  }
  return script;
}

function parseFailure(value: unknown, path: string): SimulatedFailure {
  const record = asRecord(value, path, FAILURE_KEYS);
  const failure: SimulatedFailure = { status: integerIn(record.status, `${path}.status`, 200, 599) };
  if (record.code !== undefined) {
    if (typeof record.code !== "string" && typeof record.code !== "number") {
      throw new InvalidBehaviourError(`${path}.code must be a string or a number`);
    }
    failure.code = record.code;
  }
  if (record.message !== undefined) {
    if (typeof record.message !== "string") throw new InvalidBehaviourError(`${path}.message must be a string`);
    failure.message = record.message;
  }
  return failure;
}

function asRecord(value: unknown, path: string, allowedKeys: ReadonlySet<string>): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidBehaviourError(`${path} must be a JSON object`);
  }
  const unknownKey = Object.keys(value).find((key) => !allowedKeys.has(key));
  if (unknownKey !== undefined) {
    throw new InvalidBehaviourError(`${path} has unknown field "${unknownKey}"; allowed: ${[...allowedKeys].join(", ")}`);
  }
  return value as Record<string, unknown>;
}

function integerIn(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidBehaviourError(`${path} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function rate(value: unknown, path: string): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new InvalidBehaviourError(`${path} must be a number from 0 to 1`);
  }
  return value;
}
