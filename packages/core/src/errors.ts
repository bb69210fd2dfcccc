/**
 * Typed errors shared by the API and the worker. Each class carries a stable `OTP_ERR_*` code,
 * the HTTP status of the API's response, and whether retrying the same operation can succeed.
 * Callers decide by class or `code`, never by message text.
 */
export type OtpErrorCode =
  | "OTP_ERR_CONFIG"
  | "OTP_ERR_VALIDATION"
  | "OTP_ERR_NOT_FOUND"
  | "OTP_ERR_EXPIRED"
  | "OTP_ERR_ALREADY_VERIFIED"
  | "OTP_ERR_LOCKED"
  | "OTP_ERR_NOT_DELIVERED"
  | "OTP_ERR_UNAVAILABLE"
  | "OTP_ERR_RATE_LIMITED"
  | "OTP_ERR_UNAUTHORIZED"
  | "OTP_ERR_IDEMPOTENCY_CONFLICT"
  | "OTP_ERR_IDEMPOTENCY_IN_PROGRESS"
  | "OTP_ERR_COUNTRY_BLOCKED"
  | "OTP_ERR_SUPERSEDED"
  | "OTP_ERR_PAYLOAD"
  | "OTP_ERR_BODY_TOO_LARGE"
  | "OTP_ERR_UNSUPPORTED_MEDIA_TYPE"
  | "OTP_ERR_DELIVERY"
  | "OTP_ERR_INTERNAL";

export interface OtpErrorOptions {
  cause?: unknown;
  field?: string;
}

export abstract class OtpError extends Error {
  abstract readonly code: OtpErrorCode;
  abstract readonly httpStatus: number;
  abstract readonly retryable: boolean;
  /** Request field or variable the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(message: string, options: OtpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.field = options.field;
  }
}

/** One or more environment variables are missing or invalid; start-up stops. */
export class ConfigError extends OtpError {
  readonly code = "OTP_ERR_CONFIG";
  readonly httpStatus = 500;
  readonly retryable = false;

  constructor(
    message: string,
    readonly problems: readonly { variable: string; message: string }[],
  ) {
    super(message);
  }
}

/** Request input that fails validation; `field` names the offending field. */
export class ValidationError extends OtpError {
  readonly code = "OTP_ERR_VALIDATION";
  readonly httpStatus = 400;
  readonly retryable = false;
}

export class NotFoundError extends OtpError {
  readonly code = "OTP_ERR_NOT_FOUND";
  readonly httpStatus = 404;
  readonly retryable = false;
}

export class ExpiredError extends OtpError {
  readonly code = "OTP_ERR_EXPIRED";
  readonly httpStatus = 410;
  readonly retryable = false;
}

export class AlreadyVerifiedError extends OtpError {
  readonly code = "OTP_ERR_ALREADY_VERIFIED";
  readonly httpStatus = 409;
  readonly retryable = false;
}

/** Too many wrong codes: the verification accepts no more attempts. */
export class LockedError extends OtpError {
  readonly code = "OTP_ERR_LOCKED";
  readonly httpStatus = 423;
  readonly retryable = false;
}

/** The code was never delivered (delivery failed), so it cannot be verified. */
export class NotDeliveredError extends OtpError {
  readonly code = "OTP_ERR_NOT_DELIVERED";
  readonly httpStatus = 409;
  readonly retryable = false;
}

/** A dependency (Redis) did not respond in time; the request was not accepted. */
export class UnavailableError extends OtpError {
  readonly code = "OTP_ERR_UNAVAILABLE";
  readonly httpStatus = 503;
  readonly retryable = true;
}

export class RateLimitedError extends OtpError {
  readonly code = "OTP_ERR_RATE_LIMITED";
  readonly httpStatus = 429;
  readonly retryable = true;

  constructor(
    message: string,
    /** Seconds until a retry can succeed, sent as `Retry-After`. */
    readonly retryAfterSeconds: number,
    /** Name of the limit that rejected the request, for example `recipient_cooldown`. */
    readonly limit: string,
    options: OtpErrorOptions = {},
  ) {
    super(message, options);
  }
}

export class UnauthorizedError extends OtpError {
  readonly code = "OTP_ERR_UNAUTHORIZED";
  readonly httpStatus = 401;
  readonly retryable = false;
}

export class IdempotencyConflictError extends OtpError {
  readonly code = "OTP_ERR_IDEMPOTENCY_CONFLICT";
  readonly httpStatus = 422;
  readonly retryable = false;
}

/** A request with the same Idempotency-Key is still running; retrying shortly replays its response. */
export class IdempotencyInProgressError extends OtpError {
  readonly code = "OTP_ERR_IDEMPOTENCY_IN_PROGRESS";
  readonly httpStatus = 409;
  readonly retryable = true;
}

/** The destination's country is outside ALLOWED_COUNTRIES or inside BLOCKED_COUNTRIES. */
export class CountryBlockedError extends OtpError {
  readonly code = "OTP_ERR_COUNTRY_BLOCKED";
  readonly httpStatus = 403;
  readonly retryable = false;
}

/** A newer code was sent to the same recipient, which invalidated this one (INVALIDATE_PREVIOUS_CODES). */
export class SupersededError extends OtpError {
  readonly code = "OTP_ERR_SUPERSEDED";
  readonly httpStatus = 409;
  readonly retryable = false;
}

/** A job payload that cannot be decrypted or parsed: the job fails without retries. */
export class PayloadError extends OtpError {
  readonly code = "OTP_ERR_PAYLOAD";
  readonly httpStatus = 500;
  readonly retryable = false;
}

export function isOtpError(error: unknown): error is OtpError {
  return error instanceof OtpError;
}
