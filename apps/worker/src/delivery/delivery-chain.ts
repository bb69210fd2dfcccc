import { setTimeout as delay } from "node:timers/promises";
import {
  type Channel,
  type DeliveryAttempt,
  type DeliveryError,
  type DeliveryErrorClass,
  type EmailContent,
  type Logger,
  RECIPIENT_ERROR_CLASSES,
  type SmsProviderName,
  type WorkerConfig,
} from "@otpin/core";
import type { EmailChannel, SendResult, SmsMessage, SmsProvider } from "@otpin/providers";
import { BreakerOpenError } from "./breaker-open-error.js";
import { breakerSettingsFromConfig } from "./breaker-settings.js";
import { type DeliveryObserver, guardObserver } from "./delivery-observer.js";
import { describeFailure, describeFailures } from "./failure-reason.js";
import { ProviderBreakers } from "./provider-breakers.js";
import { toDeliveryError } from "./to-delivery-error.js";

/** Per-verification record of delivery attempts and the acceptance; the worker backs it with `OtpStore`. */
export interface DeliveryLedger {
  appendAttempt(attempt: DeliveryAttempt): Promise<void>;
  /**
   * Records the accepting provider and its message id; resolves false when an acceptance was
   * already recorded.
   */
  recordAcceptance(provider: string, channel: Channel, messageId?: string): Promise<boolean>;
}

/** One verification code to deliver. `to` is E.164; `smsBody` and `emailContent` contain the code. */
export interface DeliveryRequest {
  otpId: string;
  to: string;
  /** ISO 3166 alpha-2 country of `to`, which selects a route from `SMS_ROUTES`. */
  country: string | null;
  smsBody: string;
  /** Address for the email fallback. */
  email?: string;
  emailContent?: EmailContent;
  /** SMS providers not to try, such as the one whose receipt reported a route error. */
  excludeProviders?: readonly string[];
  /** Skips SMS and sends only the email fallback (after a receipt reported a handset error). */
  emailOnly?: boolean;
}

/**
 * Result of a delivery. A failed delivery is `retryable` unless a recipient error (an invalid
 * number or address, an opt-out) ended it, or `noRoute`: no provider was left to try (all
 * excluded or none configured for the destination) and no email fallback was possible. `reason`
 * names error classes and provider codes but never the number or the body.
 */
export type DeliveryOutcome =
  | { status: "accepted"; channel: Channel; provider: string; messageId: string }
  | { status: "failed"; retryable: boolean; reason: string; errorClass?: DeliveryErrorClass; noRoute?: true };

type AcceptedOutcome = Extract<DeliveryOutcome, { status: "accepted" }>;
type FailedOutcome = Extract<DeliveryOutcome, { status: "failed" }>;

export interface DeliveryChainOptions {
  breakers: ProviderBreakers;
  /** SMS providers in the order to try them (`SMS_PROVIDERS`). */
  order: readonly SmsProviderName[];
  /** Provider order per ISO country, which replaces `order` for numbers of that country (`SMS_ROUTES`). */
  routes?: Readonly<Record<string, readonly SmsProviderName[]>>;
  /** Email fallback channel; without it a failed SMS chain fails the delivery. */
  email?: EmailChannel;
  logger: Logger;
  observer?: DeliveryObserver;
  /** Extra sends through the same provider after a `throttled` error, before failing over. Default 2. */
  throttleRetries?: number;
  /** Wait in milliseconds before the first throttle retry; doubles for each further retry. Default 250. */
  throttleBackoffMs?: number;
  /** Waits between throttle retries; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  /** Delivery receipt URL for a provider's messages; receipts are not requested when it returns undefined. */
  statusCallbackUrl?: (provider: string) => string | undefined;
}

/** One send with its latency, and the time it started as an ISO string. */
type TimedSend<T> = { latencyMs: number; at: string } & ({ ok: true; value: T } | { ok: false; error: unknown });

type SmsStep = { kind: "accepted"; outcome: AcceptedOutcome } | { kind: "failed"; error: DeliveryError } | { kind: "skipped" };

/** Result of the SMS part of the chain when no provider accepted the message. */
interface SmsFailure {
  /** Final error of each provider tried, in order. */
  failures: DeliveryError[];
  /** Providers not called because their breaker was open. */
  skipped: string[];
  /** The invalid_recipient or opted_out error that ended the chain, if one did. */
  recipientError: DeliveryError | undefined;
}

type EmailStep = { kind: "accepted"; outcome: AcceptedOutcome } | { kind: "failed"; error: DeliveryError } | { kind: "not_sent" };

const DEFAULT_THROTTLE_RETRIES = 2;
const DEFAULT_THROTTLE_BACKOFF_MS = 250;

async function timeSend<T>(send: () => Promise<T>): Promise<TimedSend<T>> {
  const at = new Date().toISOString();
  const start = performance.now();
  try {
    const value = await send();
    return { ok: true, value, at, latencyMs: Math.round(performance.now() - start) };
  } catch (error) {
    return { ok: false, error, at, latencyMs: Math.round(performance.now() - start) };
  }
}

function isRecipientError(error: DeliveryError): boolean {
  return RECIPIENT_ERROR_CLASSES.has(error.errorClass);
}

/**
 * Sends one code through the SMS providers in order, behind their breakers, and falls back to
 * email when no provider accepts it. Each provider call is appended to the ledger as it
 * finishes, and an acceptance is recorded before anything else happens.
 *
 * invalid_recipient and opted_out end the SMS chain, because sending through another provider
 * would defeat an opt-out. Every other class fails over to the next provider, and `throttled`
 * first retries the same provider with exponential backoff. Every attempt sends the same body.
 */
export class DeliveryChain {
  private readonly observer: Required<DeliveryObserver>;
  private readonly throttleRetries: number;
  private readonly throttleBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: DeliveryChainOptions) {
    this.throttleRetries = options.throttleRetries ?? DEFAULT_THROTTLE_RETRIES;
    this.throttleBackoffMs = options.throttleBackoffMs ?? DEFAULT_THROTTLE_BACKOFF_MS;
    if (!Number.isInteger(this.throttleRetries) || this.throttleRetries < 0) {
      throw new RangeError(`throttleRetries must be a whole number of at least 0, got ${this.throttleRetries}`);
    }
    if (!(this.throttleBackoffMs >= 0)) {
      throw new RangeError(`throttleBackoffMs must be at least 0, got ${this.throttleBackoffMs}`);
    }
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.observer = guardObserver(options.observer, options.logger);
  }

  /**
   * Delivers the code by SMS, or by email when SMS fails and the request has an address.
   *
   * @throws whatever the ledger throws; nothing else. A ledger failure after an acceptance is
   *   raised only once `recordAcceptance` succeeded, so a retried job does not send again.
   */
  async deliver(request: DeliveryRequest, ledger: DeliveryLedger): Promise<DeliveryOutcome> {
    const sms = await this.sendSms(request, ledger);
    if ("status" in sms) return sms;

    const email = await this.sendEmail(request, ledger, sms);
    if (email.kind === "accepted") return email.outcome;

    const outcome = this.failedOutcome(sms, email.kind === "failed" ? email.error : undefined);
    this.options.logger.warn(
      { otpId: request.otpId, retryable: outcome.retryable, errorClass: outcome.errorClass, reason: outcome.reason },
      "delivery failed",
    );
    return outcome;
  }

  private providersFor(country: string | null): readonly string[] {
    const route = country === null ? undefined : this.options.routes?.[country.toUpperCase()];
    return route ?? this.options.order;
  }

  private async sendSms(request: DeliveryRequest, ledger: DeliveryLedger): Promise<AcceptedOutcome | SmsFailure> {
    const message: SmsMessage = { otpId: request.otpId, to: request.to, body: request.smsBody };
    const result: SmsFailure = { failures: [], skipped: [], recipientError: undefined };
    let lastFailure: DeliveryError | undefined;
    const excluded = new Set(request.excludeProviders ?? []);
    const providers = request.emailOnly ? [] : this.providersFor(request.country).filter((name) => !excluded.has(name));

    for (const provider of providers) {
      if (!this.isAvailable(provider, request.otpId)) {
        result.skipped.push(provider);
        continue;
      }
      if (lastFailure !== undefined) this.reportFailover(request.otpId, lastFailure, provider);

      const step = await this.sendWithThrottleRetries(provider, message, ledger);
      if (step.kind === "accepted") return step.outcome;
      if (step.kind === "skipped") {
        result.skipped.push(provider);
        continue;
      }
      result.failures.push(step.error);
      if (isRecipientError(step.error)) {
        result.recipientError = step.error;
        return result;
      }
      lastFailure = step.error;
    }
    return result;
  }

  private isAvailable(provider: string, otpId: string): boolean {
    const { breakers, logger } = this.options;
    if (!breakers.has(provider)) {
      logger.warn({ otpId, provider, configured: breakers.names() }, "sms provider in route has no adapter, skipping it");
      return false;
    }
    if (breakers.state(provider) !== "open") return true;
    logger.debug({ otpId, provider }, "sms provider skipped because its circuit breaker is open");
    return false;
  }

  private reportFailover(otpId: string, failure: DeliveryError, to: string): void {
    this.options.logger.warn(
      { otpId, from: failure.provider, to, errorClass: failure.errorClass, errorCode: failure.providerCode },
      "sms provider failed, failing over",
    );
    this.observer.failover(failure.provider, to);
  }

  private async sendWithThrottleRetries(provider: string, message: SmsMessage, ledger: DeliveryLedger): Promise<SmsStep> {
    for (let retry = 0; ; retry++) {
      const step = await this.sendSmsOnce(provider, message, ledger);
      if (step.kind !== "failed" || step.error.errorClass !== "throttled" || retry >= this.throttleRetries) return step;

      const delayMs = this.throttleBackoffMs * 2 ** retry;
      this.observer.providerRetry(provider, "throttled");
      this.options.logger.warn({ otpId: message.otpId, provider, retry: retry + 1, delayMs }, "sms provider throttled, retrying");
      await this.sleep(delayMs);
    }
  }

  private async sendSmsOnce(provider: string, message: SmsMessage, ledger: DeliveryLedger): Promise<SmsStep> {
    const statusCallbackUrl = this.options.statusCallbackUrl?.(provider);
    const withCallback = statusCallbackUrl === undefined ? message : { ...message, statusCallbackUrl };
    const sent = await timeSend(() => this.options.breakers.send(provider, withCallback));
    if (sent.ok) {
      const outcome = await this.accept(ledger, message.otpId, "sms", provider, sent.value, sent);
      this.observer.smsAccepted(provider, message.body);
      return { kind: "accepted", outcome };
    }

    if (sent.error instanceof BreakerOpenError) {
      this.options.logger.debug({ otpId: message.otpId, provider }, "sms provider skipped because its circuit breaker is open");
      return { kind: "skipped" };
    }
    const error = toDeliveryError(provider, sent.error);
    await this.recordFailure(ledger, message.otpId, provider, error, sent);
    return { kind: "failed", error };
  }

  private async sendEmail(request: DeliveryRequest, ledger: DeliveryLedger, sms: SmsFailure): Promise<EmailStep> {
    const channel = this.options.email;
    const { email: address, emailContent: content, otpId } = request;
    if (channel === undefined || address === undefined || content === undefined) return { kind: "not_sent" };

    this.options.logger.info(
      { otpId, smsReason: describeFailures(sms.failures, sms.skipped) },
      "sms failed, falling back to email",
    );
    const sent = await timeSend(() => channel.send({ otpId, to: address, ...content }));
    if (sent.ok) {
      const outcome = await this.accept(ledger, otpId, "email", "email", sent.value, sent);
      this.observer.emailFallback("accepted");
      return { kind: "accepted", outcome };
    }
    const error = toDeliveryError("email", sent.error);
    await this.recordFailure(ledger, otpId, "email", error, sent);
    this.observer.emailFallback("failed");
    return { kind: "failed", error };
  }

  private async accept(
    ledger: DeliveryLedger,
    otpId: string,
    channel: Channel,
    provider: string,
    result: SendResult,
    timing: { latencyMs: number; at: string },
  ): Promise<AcceptedOutcome> {
    // Recorded first, so a crash or a ledger failure after this point cannot make a retried job
    // send the code a second time.
    const first = await ledger.recordAcceptance(provider, channel, result.messageId);
    if (!first) this.options.logger.warn({ otpId, provider, channel }, "acceptance was already recorded for this otp");

    const { latencyMs, at } = timing;
    await ledger.appendAttempt({ provider, outcome: "accepted", messageId: result.messageId, latencyMs, at });
    this.options.logger.info(
      { otpId, provider, outcome: "accepted", messageId: result.messageId, latencyMs },
      "delivery attempt",
    );
    this.observer.attempt(provider, "accepted", undefined, latencyMs / 1000);
    return { status: "accepted", channel, provider, messageId: result.messageId };
  }

  private async recordFailure(
    ledger: DeliveryLedger,
    otpId: string,
    provider: string,
    error: DeliveryError,
    timing: { latencyMs: number; at: string },
  ): Promise<void> {
    const { latencyMs, at } = timing;
    const { errorClass, providerCode: errorCode } = error;
    await ledger.appendAttempt({ provider, outcome: "failed", errorClass, errorCode, latencyMs, at });
    this.options.logger.warn({ otpId, provider, outcome: "failed", errorClass, errorCode, latencyMs }, "delivery attempt");
    this.observer.attempt(provider, "failed", errorClass, latencyMs / 1000);
  }

  private failedOutcome(sms: SmsFailure, emailError: DeliveryError | undefined): FailedOutcome {
    const recipientError = emailError !== undefined && isRecipientError(emailError) ? emailError : sms.recipientError;
    const lastError = emailError ?? sms.failures.at(-1);
    const smsReason = describeFailures(sms.failures, sms.skipped);
    // Nothing called and no breaker in the way: the same request would find nothing next time either.
    const noRoute = sms.failures.length === 0 && sms.skipped.length === 0 && emailError === undefined;
    return {
      status: "failed",
      retryable: recipientError === undefined && !noRoute,
      ...(noRoute ? { noRoute } : {}),
      reason: emailError === undefined ? smsReason : `${smsReason}; ${describeFailure(emailError)}`,
      // With no error at all, every provider was skipped because its breaker was open.
      errorClass: recipientError?.errorClass ?? lastError?.errorClass ?? "provider_unavailable",
    };
  }
}

/** Builds the worker's breakers and delivery chain from its configuration. */
export function createDeliveryChain(
  config: WorkerConfig,
  deps: { providers: Map<SmsProviderName, SmsProvider>; email?: EmailChannel; logger: Logger; observer?: DeliveryObserver },
): { chain: DeliveryChain; breakers: ProviderBreakers } {
  const breakers = new ProviderBreakers(deps.providers, breakerSettingsFromConfig(config), deps.logger, deps.observer);
  const chain = new DeliveryChain({
    breakers,
    order: config.SMS_PROVIDERS,
    routes: config.SMS_ROUTES,
    email: deps.email,
    logger: deps.logger,
    observer: deps.observer,
    statusCallbackUrl: receiptUrlFor(config.PUBLIC_BASE_URL),
  });
  return { chain, breakers };
}

/** Builds `${PUBLIC_BASE_URL}/v1/webhooks/{provider}`, the route the API verifies receipts on. */
function receiptUrlFor(publicBaseUrl: string | undefined): ((provider: string) => string) | undefined {
  if (publicBaseUrl === undefined) return undefined;
  return (provider) => `${publicBaseUrl}/v1/webhooks/${provider}`;
}
