/** Outcome label of one processed delivery receipt: a bounded set, safe as a metric label. */
export type ReceiptOutcome =
  | "submitted"
  | "delivered"
  | "undelivered"
  | "duplicate"
  | "ignored"
  | "superseded"
  | "unknown_message"
  | "malformed"
  | "invalid_signature";

/** Told about every delivery receipt the API handled, for `otp_delivery_receipts_total{provider, outcome}`. */
export interface ReceiptEvents {
  receipt(provider: string, outcome: ReceiptOutcome): void;
}

/** Default: receipts are not counted. */
export const NO_RECEIPT_EVENTS: ReceiptEvents = { receipt: () => undefined };
