import { DeliveryError } from "@otpin/core";

/**
 * A send that a provider's open breaker rejected without calling the provider. It is a
 * `DeliveryError` of class `provider_unavailable`, so callers that handle delivery errors need
 * no extra case. `providerCode` is opossum's code, `EOPENBREAKER` or `ESHUTDOWN`.
 */
export class BreakerOpenError extends DeliveryError {
  constructor(provider: string, providerCode: "EOPENBREAKER" | "ESHUTDOWN", options: { cause?: unknown } = {}) {
    const state = providerCode === "ESHUTDOWN" ? "shut down" : "open";
    super("provider_unavailable", `${provider} was not called because its circuit breaker is ${state}`, {
      provider,
      providerCode,
      cause: options.cause,
    });
  }
}

export function isBreakerOpenError(error: unknown): error is BreakerOpenError {
  return error instanceof BreakerOpenError;
}
