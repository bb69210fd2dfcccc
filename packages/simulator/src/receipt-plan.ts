import type { ProviderName } from "./types.js";

/** One delivery receipt as the provider words it: its status value and error code. */
export interface ReceiptStep {
  status: string;
  errorCode?: string;
}

/** Carrier verdict that a receipt magic recipient simulates, in each provider's words. */
export interface ReceiptMagicRecipient {
  meaning: "carrier route error" | "handset unreachable";
  twilio: ReceiptStep;
  plivo: ReceiptStep;
  vonage: ReceiptStep;
}

/**
 * Recipients that every simulated provider accepts and then reports as not delivered. Any other
 * accepted message is reported delivered.
 */
export const RECEIPT_MAGIC_RECIPIENTS: Readonly<Record<string, ReceiptMagicRecipient>> = Object.freeze({
  "+15005550010": {
    meaning: "carrier route error",
    twilio: { status: "undelivered", errorCode: "30034" }, // message from an unregistered number
    plivo: { status: "undelivered", errorCode: "100" }, // prohibited by carrier
    vonage: { status: "failed", errorCode: "11" }, // unroutable
  },
  "+15005550011": {
    meaning: "handset unreachable",
    twilio: { status: "undelivered", errorCode: "30003" }, // unreachable destination handset
    plivo: { status: "undelivered", errorCode: "80" }, // destination temporarily unavailable
    vonage: { status: "expired", errorCode: "2" }, // absent subscriber, temporary
  },
});

const DELIVERED: Readonly<Record<ProviderName, ReceiptStep>> = {
  twilio: { status: "delivered" },
  plivo: { status: "delivered" },
  vonage: { status: "delivered", errorCode: "0" },
};

/** Twilio and Plivo report `sent` before the carrier's verdict; Vonage sends the verdict only. */
const INTERIM: Readonly<Record<ProviderName, ReceiptStep | undefined>> = {
  twilio: { status: "sent" },
  plivo: { status: "sent" },
  vonage: undefined,
};

/** Returns the receipts a provider sends for an accepted message to `to`, in order. */
export function receiptPlan(provider: ProviderName, to: string): ReceiptStep[] {
  const magic = Object.hasOwn(RECEIPT_MAGIC_RECIPIENTS, to) ? RECEIPT_MAGIC_RECIPIENTS[to] : undefined;
  const final = magic?.[provider] ?? DELIVERED[provider];
  const interim = INTERIM[provider];
  return interim === undefined ? [final] : [interim, final];
}
