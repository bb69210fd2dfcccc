export { InvalidBehaviourError, parseBehaviour, parseBehaviourScript } from "./behaviour-schema.js";
export type { SimulatorLogger } from "./context.js";
export { SIMULATOR_CREDENTIALS, type SimulatorCredentials } from "./credentials.js";
export { DEFAULT_PORT, startFromEnvironment } from "./environment.js";
export { MAGIC_RECIPIENTS, type MagicRecipient } from "./magic-recipients.js";
export { MessageWaitError } from "./message-store.js";
export { seededRandom } from "./random.js";
export type { VonageReceiptMethod } from "./receipt-format.js";
export { RECEIPT_MAGIC_RECIPIENTS, type ReceiptMagicRecipient, type ReceiptStep } from "./receipt-plan.js";
export { CALLBACK_FIELDS, type ManualReceipt, type ReceiptOptions, type SentReceipt } from "./receipt-sender.js";
export { plivoV3Signature, twilioSignature, type VonageSignatureMethod, vonageSignature } from "./receipt-signing.js";
export { type Simulator, type SimulatorOptions, startSimulator } from "./server.js";
export type {
  MessageFilter,
  ProviderBehaviour,
  ProviderName,
  RecordedRequest,
  SimulatedFailure,
  SimulatedMessage,
} from "./types.js";
