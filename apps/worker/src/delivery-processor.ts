import {
  type DeliveryJobData,
  deliveryJobDataSchema,
  type Logger,
  maskPhone,
  type OtpStore,
  type PayloadCipher,
  PayloadError,
  renderEmail,
  renderSms,
  secretPayloadSchema,
} from "@otpin/core";
import { type Job, UnrecoverableError } from "bullmq";
import type { DeliveryChain, DeliveryLedger } from "./delivery/index.js";

/** What a finished job returns; BullMQ stores it as the job's return value. */
export interface DeliveryJobResult {
  status: "sent" | "expired" | "skipped";
  channel?: string;
  provider?: string;
  /** True when an earlier run of this job had already delivered it (at-least-once redelivery). */
  duplicate?: boolean;
}

/** Hooks for metrics; all optional. */
export interface ProcessorObserver {
  jobCompleted?(status: "sent" | "failed" | "expired"): void;
  duplicateSuppressed?(): void;
  delivered?(channel: string, secondsSinceAccepted: number): void;
  smsRendered?(body: string): void;
}

export interface ProcessorDeps {
  store: OtpStore;
  cipher: PayloadCipher;
  chain: Pick<DeliveryChain, "deliver">;
  logger: Logger;
  appName: string;
  ttlSeconds: number;
  observer?: ProcessorObserver;
  now?: () => number;
}

/**
 * Builds the BullMQ processor for delivery jobs: decrypt, render, send through the chain, record
 * the outcome. A permanent failure throws UnrecoverableError so BullMQ does not retry; a transient
 * one throws a plain Error while a retry can still finish before the code expires.
 */
export function createDeliveryProcessor(deps: ProcessorDeps): (job: Job) => Promise<DeliveryJobResult> {
  const now = deps.now ?? Date.now;

  return async (job) => {
    const data = parseJobData(job);
    const { otpId } = data;
    const log = deps.logger.child({ otpId, jobId: job.id, attempt: job.attemptsMade + 1 });

    const record = await deps.store.get(otpId, now());
    if (record === undefined) {
      // The API deletes the record when it could not confirm the enqueue, so the job is stale.
      log.warn("verification record missing, job dropped");
      return { status: "skipped" };
    }
    if (record.status === "verified") return { status: "skipped" };
    if (record.status === "expired") {
      log.info("code expired before delivery, job dropped");
      deps.observer?.jobCompleted?.("expired");
      return { status: "expired" };
    }

    const acceptedBy = await deps.store.getAcceptance(otpId);
    if (acceptedBy !== undefined) {
      // At-least-once redelivery: an earlier run already handed the code to a provider.
      log.info({ provider: acceptedBy }, "delivery already accepted, duplicate send suppressed");
      deps.observer?.duplicateSuppressed?.();
      await deps.store.transition(otpId, "sent");
      return { status: "sent", provider: acceptedBy, duplicate: true };
    }

    const secret = decryptPayload(deps.cipher, data);
    await deps.store.transition(otpId, "sending");
    const template = { code: secret.code, appName: deps.appName, ttlSeconds: deps.ttlSeconds, locale: secret.locale };
    const smsBody = renderSms(template);
    deps.observer?.smsRendered?.(smsBody);

    const outcome = await deps.chain.deliver(
      {
        otpId,
        to: secret.to,
        country: data.country,
        smsBody,
        email: secret.email,
        emailContent: secret.email === undefined ? undefined : renderEmail(template),
      },
      ledgerFor(deps.store, otpId),
    );

    if (outcome.status === "accepted") {
      await deps.store.transition(otpId, "sent", { channel: outcome.channel, sentAt: now() });
      deps.observer?.delivered?.(outcome.channel, (now() - data.createdAt) / 1000);
      deps.observer?.jobCompleted?.("sent");
      log.info({ channel: outcome.channel, provider: outcome.provider, to: maskPhone(secret.to) }, "code delivered to provider");
      return { status: "sent", channel: outcome.channel, provider: outcome.provider };
    }

    const nextDelayMs = nextBackoffMs(job);
    const attemptsLeft = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
    const canRetry = outcome.retryable && attemptsLeft > 0 && now() + nextDelayMs < data.expiresAt;
    if (!canRetry) {
      await deps.store.transition(otpId, "failed", { reason: outcome.reason });
      deps.observer?.jobCompleted?.("failed");
      log.warn({ reason: outcome.reason, retryable: outcome.retryable }, "delivery failed");
      throw new UnrecoverableError(outcome.reason);
    }
    await deps.store.transition(otpId, "queued", { reason: `retrying: ${outcome.reason}` });
    log.info({ reason: outcome.reason, retryInMs: nextDelayMs }, "delivery failed, retry scheduled");
    throw new Error(outcome.reason);
  };
}

function parseJobData(job: Job): DeliveryJobData {
  const parsed = deliveryJobDataSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`job ${job.id} has malformed data`);
  return parsed.data;
}

function decryptPayload(cipher: PayloadCipher, data: DeliveryJobData) {
  try {
    return secretPayloadSchema.parse(cipher.decrypt(data.payload, data.otpId));
  } catch (error) {
    const message = error instanceof PayloadError ? error.message : "decrypted payload has an unexpected shape";
    throw new UnrecoverableError(`job payload rejected: ${message}`);
  }
}

/** Delay BullMQ will apply before the next attempt, for the exponential back-off the API sets. */
function nextBackoffMs(job: Job): number {
  const backoff = job.opts.backoff;
  if (backoff === undefined) return 0;
  if (typeof backoff === "number") return backoff;
  const delay = backoff.delay ?? 0;
  return backoff.type === "exponential" ? delay * 2 ** job.attemptsMade : delay;
}

function ledgerFor(store: OtpStore, otpId: string): DeliveryLedger {
  return {
    appendAttempt: (attempt) => store.appendAttempt(otpId, attempt),
    recordAcceptance: (provider, channel) => store.recordAcceptance(otpId, provider, channel),
  };
}
