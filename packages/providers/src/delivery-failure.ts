import { DeliveryError, type DeliveryErrorClass } from "@otpin/core";

/** Details of a failed send, as the provider or the network reported them. Every field is safe to log. */
export interface FailureDetails {
  httpStatus?: number | undefined;
  /** The provider's own error code or per-message status. */
  providerCode?: string | undefined;
  /** A Node.js system error code such as ECONNREFUSED, when no response arrived. */
  networkCode?: string | undefined;
  /** Overrides whether the circuit breaker counts the failure; see DeliveryErrorDetails. */
  countsAgainstBreaker?: boolean | undefined;
}

/**
 * Builds the `DeliveryError` every adapter rejects with. The message names only the provider,
 * the HTTP status and the provider or network code. The SDK error is deliberately not attached
 * as `cause`, because SDK errors carry the recipient number, the text with the code and, in
 * Plivo's case, the whole request, and pino's `err` serializer prints the messages of causes.
 */
export function deliveryFailure(provider: string, errorClass: DeliveryErrorClass, details: FailureDetails): DeliveryError {
  const parts: string[] = [];
  if (details.httpStatus !== undefined) parts.push(`HTTP ${details.httpStatus}`);
  if (details.providerCode !== undefined) parts.push(`code ${details.providerCode}`);
  if (details.networkCode !== undefined) parts.push(details.networkCode);
  const what = parts.length > 0 ? parts.join(", ") : "no status or code";
  return new DeliveryError(errorClass, `${provider} send failed (${errorClass}): ${what}`, {
    provider,
    providerCode: details.providerCode ?? details.networkCode,
    httpStatus: details.httpStatus,
    countsAgainstBreaker: details.countsAgainstBreaker,
  });
}

/** Builds the error for a request that the adapter's own timeout ended before any response. */
export function timeoutFailure(provider: string, timeoutMs: number): DeliveryError {
  return new DeliveryError(
    "timeout",
    `${provider} send failed (timeout): request timed out after ${timeoutMs} ms without a response`,
    {
      provider,
      providerCode: "timeout",
    },
  );
}

// Codes Node.js sets on socket and DNS errors. A reset after the request went out is `unknown`
// because the provider may have accepted the message, so a retry could send it twice.
const NETWORK_ERROR_CLASSES: Readonly<Record<string, DeliveryErrorClass>> = {
  ECONNREFUSED: "provider_unavailable",
  ENOTFOUND: "provider_unavailable",
  EAI_AGAIN: "provider_unavailable",
  EHOSTUNREACH: "provider_unavailable",
  ENETUNREACH: "provider_unavailable",
  ECONNRESET: "unknown",
  EPIPE: "unknown",
  ETIMEDOUT: "timeout",
  ECONNABORTED: "timeout",
};

/** Classifies a Node.js system error code. Codes not in the table are `unknown`. */
export function classifyNetworkCode(code: string): DeliveryErrorClass {
  return NETWORK_ERROR_CLASSES[code] ?? "unknown";
}

/** Finds the first known system error code in free text, such as a stack trace the Plivo SDK rejects with. */
export function findNetworkCode(text: string): string | undefined {
  for (const match of text.matchAll(/\bE[A-Z_]{3,}\b/g)) {
    if (match[0] in NETWORK_ERROR_CLASSES) return match[0];
  }
  if (/socket hang up/i.test(text)) return "ECONNRESET";
  return undefined;
}

/**
 * Classifies an HTTP status when the provider's code is missing or not in its table:
 * 429 is `throttled`, 5xx is `provider_unavailable`, 401 is `auth`, and the rest is `unknown`.
 */
export function classifyHttpStatus(status: number): DeliveryErrorClass {
  if (status === 429) return "throttled";
  if (status >= 500) return "provider_unavailable";
  if (status === 401) return "auth";
  return "unknown";
}

/** Reads a property of an unknown thrown value without trusting its type. */
export function property(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  return (value as Record<string, unknown>)[key];
}
