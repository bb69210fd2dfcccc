import type { BehaviourBook } from "./behaviour.js";
import type { MessageStore } from "./message-store.js";
import type { ProviderApi } from "./provider-api.js";
import type { ReceiptSender } from "./receipt-sender.js";

/** Subset of the pino logger interface that the simulator calls. */
export interface SimulatorLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** State shared by the request handlers of one simulator instance. */
export interface SimulatorContext {
  store: MessageStore;
  behaviours: BehaviourBook;
  apis: readonly ProviderApi[];
  /** Aborted by `close()`, so latency timers stop holding the process open. */
  shutdown: AbortSignal;
  logger: SimulatorLogger | undefined;
  /** Sends delivery receipts to the status callback URLs of accepted messages. */
  receipts: ReceiptSender;
}
