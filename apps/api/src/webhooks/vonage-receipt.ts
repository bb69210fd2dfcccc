import type { DeliveryState, VonageSignatureMethod } from "@otpin/core";
import { stateOf } from "./receipt-fields.js";
import type { ReceiptPolicy, ReceiptProvider } from "./receipt-provider.js";
import { verifyVonageSignature } from "./vonage-signature.js";

/** Vonage SMS DLR `status` values. `unknown` changes nothing. */
const VONAGE_STATES: Readonly<Record<string, DeliveryState>> = {
  accepted: "submitted",
  buffered: "submitted",
  delivered: "delivered",
  failed: "undelivered",
  rejected: "undelivered",
  expired: "undelivered",
};

/**
 * Vonage DLR `err-code` values, and what otpin does next. Meanings from Vonage's support article
 * "Vonage SMS Delivery Error Codes and Descriptions". Codes 4 and 9 are the user's own block or
 * opt-out, so they go to email and never to another SMS provider.
 */
export const VONAGE_RECEIPT_POLICY: Readonly<Record<string, ReceiptPolicy>> = {
  "5": "route", // portability error
  "8": "route", // network error
  "11": "route", // unroutable
  "16": "route", // gateway quota exceeded
  "2": "handset", // absent subscriber, temporary
  "3": "handset", // absent subscriber, permanent
  "4": "handset", // call barred by the user
  "9": "handset", // the user asked not to receive messages from this service
  "7": "handset", // handset busy
  "12": "handset", // destination unreachable
};

/** Vonage SMS delivery receipts: GET query or POST (form or JSON), signed with the `sig` parameter. */
export function vonageReceipts(secret: string, method: VonageSignatureMethod): ReceiptProvider {
  return {
    name: "vonage",
    // The signature covers the parameters, not the URL.
    verify: ({ params }) => verifyVonageSignature(secret, method, params),
    parse(params) {
      const state = stateOf(VONAGE_STATES, params.status);
      if (!params.messageId || state === undefined) return undefined;
      const errorCode = params["err-code"] && params["err-code"] !== "0" ? params["err-code"] : undefined;
      return { messageId: params.messageId, state, errorCode };
    },
    policy: (errorCode) => (errorCode === undefined ? undefined : VONAGE_RECEIPT_POLICY[errorCode]),
  };
}
