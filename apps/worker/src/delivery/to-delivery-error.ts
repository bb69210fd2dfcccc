import { DeliveryError } from "@otpin/core";

/**
 * Returns the error itself when it is already a `DeliveryError`, and otherwise wraps it as class
 * `unknown` so nothing untyped leaves the delivery chain. Adapters should never need the
 * fallback; it guards against a bug or an SDK error they did not map.
 */
export function toDeliveryError(provider: string, error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  return new DeliveryError("unknown", `${provider} failed with an unclassified error`, {
    provider,
    providerCode: typeof code === "string" || typeof code === "number" ? String(code) : undefined,
    cause: error,
  });
}
