import { OtpError, type OtpErrorOptions } from "./errors.js";

/**
 * Error classes shared by every SMS provider and the email channel. Each provider adapter maps
 * its own error codes onto these in one table; the failover chain decides only by class.
 */
export const DELIVERY_ERROR_CLASSES = [
  "invalid_recipient",
  "opted_out",
  "not_permitted",
  "throttled",
  "provider_unavailable",
  "timeout",
  "auth",
  "unknown",
] as const;

export type DeliveryErrorClass = (typeof DELIVERY_ERROR_CLASSES)[number];

/** Classes that describe the recipient, not the provider: they end the SMS chain and never count against a breaker. */
export const RECIPIENT_ERROR_CLASSES: ReadonlySet<DeliveryErrorClass> = new Set(["invalid_recipient", "opted_out"]);

export interface DeliveryErrorDetails extends OtpErrorOptions {
  /** Provider name, for example `twilio` or `email`. */
  provider: string;
  /** The provider's own error code or status, when it gave one. */
  providerCode?: string | undefined;
  /** HTTP status of the provider's response, when there was one. */
  httpStatus?: number | undefined;
  /**
   * Overrides whether this failure counts against the provider's circuit breaker, for codes whose
   * class alone does not decide it (an account-wide restriction reported as `not_permitted`).
   */
  countsAgainstBreaker?: boolean | undefined;
}

/** A failed send through one provider, classified. */
export class DeliveryError extends OtpError {
  readonly code = "OTP_ERR_DELIVERY";
  readonly httpStatus = 502;
  readonly provider: string;
  readonly providerCode: string | undefined;
  readonly providerHttpStatus: number | undefined;
  private readonly breakerOverride: boolean | undefined;

  constructor(
    readonly errorClass: DeliveryErrorClass,
    message: string,
    details: DeliveryErrorDetails,
  ) {
    super(message, details);
    this.provider = details.provider;
    this.providerCode = details.providerCode;
    this.providerHttpStatus = details.httpStatus;
    this.breakerOverride = details.countsAgainstBreaker;
  }

  /** Whether another attempt (later, or through another provider) can succeed. */
  get retryable(): boolean {
    return !RECIPIENT_ERROR_CLASSES.has(this.errorClass);
  }

  /** Whether the provider's circuit breaker counts this failure; recipient errors never count. */
  get countsAgainstBreaker(): boolean {
    if (RECIPIENT_ERROR_CLASSES.has(this.errorClass)) return false;
    return this.breakerOverride ?? isBreakerFailure(this.errorClass);
  }
}

/**
 * Whether an error class means the provider itself is failing. Recipient errors and
 * `not_permitted` (one destination blocked for this account) reveal nothing about its health.
 */
export function isBreakerFailure(errorClass: DeliveryErrorClass): boolean {
  return !RECIPIENT_ERROR_CLASSES.has(errorClass) && errorClass !== "not_permitted";
}
