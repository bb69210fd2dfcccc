import type { DeliveryState } from "@otpin/core";
import { headerValue, stateOf } from "./receipt-fields.js";
import type { ReceiptPolicy, ReceiptProvider } from "./receipt-provider.js";
import { verifyTwilioSignature } from "./twilio-signature.js";

/** Twilio `MessageStatus` values. Unlisted ones (such as `scheduled`) change nothing. */
const TWILIO_STATES: Readonly<Record<string, DeliveryState>> = {
  accepted: "submitted",
  queued: "submitted",
  sending: "submitted",
  sent: "submitted",
  delivered: "delivered",
  read: "delivered",
  undelivered: "undelivered",
  failed: "undelivered",
  canceled: "undelivered",
};

/** Twilio messaging error codes in an `undelivered` receipt, and what otpin does next. */
export const TWILIO_RECEIPT_POLICY: Readonly<Record<string, ReceiptPolicy>> = {
  "30002": "route", // account suspended
  "30007": "route", // filtered by the carrier
  "30032": "route", // toll-free number not verified
  "30034": "route", // message from an unregistered (A2P 10DLC) number
  "30003": "handset", // unreachable destination handset
  "30005": "handset", // unknown destination handset
  "30006": "handset", // landline or unreachable carrier
};

/** Twilio status callbacks: form POST signed with `X-Twilio-Signature`. */
export function twilioReceipts(authToken: string): ReceiptProvider {
  return {
    name: "twilio",
    verify: ({ url, params, headers }) =>
      verifyTwilioSignature(authToken, url, params, headerValue(headers, "x-twilio-signature")),
    parse(params) {
      const messageId = params.MessageSid ?? params.SmsSid;
      const state = stateOf(TWILIO_STATES, params.MessageStatus ?? params.SmsStatus);
      if (!messageId || state === undefined) return undefined;
      return { messageId, state, errorCode: params.ErrorCode || undefined };
    },
    policy: (errorCode) => (errorCode === undefined ? undefined : TWILIO_RECEIPT_POLICY[errorCode]),
  };
}
