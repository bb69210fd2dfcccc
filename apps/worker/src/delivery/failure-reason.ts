import type { DeliveryError, DeliveryErrorClass } from "@otpin/core";

const CLASS_PHRASES: Record<DeliveryErrorClass, string> = {
  invalid_recipient: "rejected the number",
  opted_out: "reports that the recipient opted out",
  not_permitted: "is not permitted to send to this destination",
  throttled: "throttled the request",
  provider_unavailable: "was unavailable",
  timeout: "timed out",
  auth: "rejected the credentials",
  unknown: "failed with an unclassified error",
};

// The reason is stored and returned by the API, so a provider code is shown only when it looks
// like a code and cannot carry the number or the message text.
const PLAIN_PROVIDER_CODE = /^[A-Za-z0-9_.-]{1,32}$/;

/** Describes one failed send without the number or the body: `invalid_recipient: twilio rejected the number (21211)`. */
export function describeFailure(error: DeliveryError): string {
  const phrase =
    error.errorClass === "invalid_recipient" && error.provider === "email"
      ? "rejected the address"
      : CLASS_PHRASES[error.errorClass];
  const code = error.providerCode !== undefined && PLAIN_PROVIDER_CODE.test(error.providerCode) ? ` (${error.providerCode})` : "";
  // Operators search logs and runbooks for the protocol, so the email channel is named with it.
  const provider = error.provider === "email" ? "email (SMTP)" : error.provider;
  return `${error.errorClass}: ${provider} ${phrase}${code}`;
}

/**
 * Builds the `reason` of a failed delivery from every provider's final error, in the order they
 * were tried, followed by the providers skipped because their breaker was open.
 */
export function describeFailures(failures: readonly DeliveryError[], skipped: readonly string[]): string {
  const parts = failures.map(describeFailure);
  if (skipped.length > 0) parts.push(`provider_unavailable: ${skipped.join(", ")} skipped because the circuit breaker is open`);
  if (parts.length === 0) return "no sms provider is configured for this destination";
  return parts.join("; ");
}
