/** Failure that a magic recipient triggers, as each provider reports it. */
export interface MagicRecipient {
  /** Condition that the number simulates. */
  meaning: "invalid number" | "not a mobile" | "opted out" | "no geo permission";
  twilio: { status: number; code: number; message: string };
  plivo: { status: number; error: string };
  /** Per-message status and error text inside an HTTP 200 response. */
  vonage: { status: string; errorText: string };
}

/**
 * Recipients that make every simulated provider reject the message, keyed by E.164 number.
 * They sit in Twilio's +1 500 555 test range, so no real phone can receive them.
 */
export const MAGIC_RECIPIENTS: Readonly<Record<string, MagicRecipient>> = Object.freeze({
  "+15005550001": {
    meaning: "invalid number",
    twilio: { status: 400, code: 21211, message: "The 'To' number +15005550001 is not a valid phone number." },
    plivo: { status: 400, error: "invalid dst number" },
    vonage: { status: "3", errorText: "Invalid To Number" },
  },
  "+15005550009": {
    meaning: "not a mobile",
    twilio: { status: 400, code: 21614, message: "'To' number is not a valid mobile number" },
    plivo: { status: 400, error: "dst number is a landline and cannot receive SMS" },
    vonage: { status: "6", errorText: "Unroutable message - rejected" },
  },
  "+15005550004": {
    meaning: "opted out",
    twilio: { status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient" },
    plivo: { status: 400, error: "destination number has opted out (STOP)" },
    vonage: { status: "7", errorText: "Number barred." },
  },
  "+15005550003": {
    meaning: "no geo permission",
    twilio: {
      status: 400,
      code: 21408,
      message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    },
    plivo: { status: 403, error: "sending to this destination is not permitted for this account" },
    vonage: { status: "29", errorText: "Non White-listed Destination" },
  },
});

/** Returns the magic recipient for an E.164 number, or undefined for an ordinary number. */
export function findMagicRecipient(e164: string): MagicRecipient | undefined {
  return Object.hasOwn(MAGIC_RECIPIENTS, e164) ? MAGIC_RECIPIENTS[e164] : undefined;
}
