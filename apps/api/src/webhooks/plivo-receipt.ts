import type { DeliveryState } from "@otpin/core";
import { verifyPlivoSignature } from "./plivo-signature.js";
import { headerValue, stateOf } from "./receipt-fields.js";
import type { ReceiptPolicy, ReceiptProvider } from "./receipt-provider.js";

/** Plivo message `Status` values. */
const PLIVO_STATES: Readonly<Record<string, DeliveryState>> = {
  queued: "submitted",
  sent: "submitted",
  delivered: "delivered",
  undelivered: "undelivered",
  failed: "undelivered",
  rejected: "undelivered",
};

/**
 * Plivo message error codes in an `undelivered` or `failed` receipt, and what otpin does next.
 * NOTE: these codes were not checked against Plivo's current error-code list; an unlisted code
 * only records the state and triggers no re-send.
 */
export const PLIVO_RECEIPT_POLICY: Readonly<Record<string, ReceiptPolicy>> = {
  "20": "route", // network error
  "40": "route", // invalid source number
  "90": "route", // no route available
  "100": "route", // prohibited by carrier
  "900": "route", // insufficient credit
  "50": "handset", // invalid destination number
  "70": "handset", // destination permanently unavailable
  "80": "handset", // destination temporarily unavailable
};

/** Plivo message callbacks: form (or JSON) POST signed with `X-Plivo-Signature-V3` and its nonce. */
export function plivoReceipts(authToken: string): ReceiptProvider {
  return {
    name: "plivo",
    verify: ({ url, params, headers }) =>
      verifyPlivoSignature(
        authToken,
        url,
        params,
        headerValue(headers, "x-plivo-signature-v3"),
        headerValue(headers, "x-plivo-signature-v3-nonce"),
      ),
    parse(params) {
      const state = stateOf(PLIVO_STATES, params.Status);
      if (!params.MessageUUID || state === undefined) return undefined;
      const errorCode = params.ErrorCode && params.ErrorCode !== "000" ? params.ErrorCode : undefined;
      return { messageId: params.MessageUUID, state, errorCode };
    },
    policy: (errorCode) => (errorCode === undefined ? undefined : PLIVO_RECEIPT_POLICY[errorCode]),
  };
}
