export { InvalidBehaviourError, parseBehaviour, parseBehaviourScript } from "./behaviour-schema.js";
export type { SimulatorLogger } from "./context.js";
export { SIMULATOR_CREDENTIALS, type SimulatorCredentials } from "./credentials.js";
export { DEFAULT_PORT, startFromEnvironment } from "./environment.js";
export { MAGIC_RECIPIENTS, type MagicRecipient } from "./magic-recipients.js";
export { MessageWaitError } from "./message-store.js";
export { seededRandom } from "./random.js";
export { type Simulator, type SimulatorOptions, startSimulator } from "./server.js";
export type {
  MessageFilter,
  ProviderBehaviour,
  ProviderName,
  RecordedRequest,
  SimulatedFailure,
  SimulatedMessage,
} from "./types.js";
