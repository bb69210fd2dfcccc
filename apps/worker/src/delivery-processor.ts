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
  verificationClosed,
} from "@otpin/core";
import { Job, UnrecoverableError } from "bullmq";
import type { DeliveryChain, DeliveryLedger } from "./delivery/index.js";
import {
  type HeldReceiptOutcome,
  type Redelivery,
  readRedelivery,
  redeliveryForHeldReceipts,
  redeliveryJobId,
} from "./redelivery.js";

/** Result of a finished job, stored by BullMQ as the job's return value. */
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
  /**
   * Adds the follow-up job that a receipt held before the submission was recorded calls for.
   * Defaults to adding it to the queue of the job being processed.
   */
  addFollowUp?: (job: Job, jobId: string, data: DeliveryJobData & { redelivery: Redelivery }) => Promise<void>;
}

/**
 * Builds the BullMQ processor for delivery jobs: decrypt, render, send through the chain, record
 * the outcome. A permanent failure throws UnrecoverableError, so BullMQ does not retry it. A
 * transient one throws a plain Error, but only while a retry can still finish before the code expires.
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

    const redelivery = readRedelivery(job.data);
    // A re-send after a receipt follows an acceptance by design, so only its own acceptance counts.
    const acceptedBy = await (redelivery ? deps.store.getRedeliveryAcceptance(otpId) : deps.store.getAcceptance(otpId));
    if (acceptedBy !== undefined) {
      // At-least-once redelivery: an earlier run already handed the code to a provider.
      log.info({ provider: acceptedBy }, "delivery already accepted, duplicate send suppressed");
      deps.observer?.duplicateSuppressed?.();
      // An earlier run may have died after the acceptance but before indexing the message id.
      // Receipts held meanwhile call for the same re-send as they would have in that run.
      const unindexed = redelivery ? undefined : await deps.store.getUnindexedAcceptance(otpId);
      if (unindexed !== undefined) {
        const { provider, messageId } = unindexed;
        const { heldReceipts } = await deps.store.recordSubmission(otpId, provider, messageId, now());
        const followUp = redeliveryForHeldReceipts(provider, heldReceipts);
        if (followUp !== undefined) await addHeldFollowUp(deps, job, { ...data, redelivery: followUp }, log);
      }
      await deps.store.transition(otpId, "sent");
      return { status: "sent", provider: acceptedBy, duplicate: true };
    }

    // A newer code replaced this one, or wrong guesses locked it, before it went out: sending it
    // would hand the user a code that cannot pass.
    const closed = verificationClosed(record);
    if (closed === "superseded" || closed === "locked") {
      log.info({ closed }, "code can no longer be verified, not sent");
      if (redelivery === undefined) await deps.store.transition(otpId, "failed", { reason: CLOSED_REASONS[closed] });
      return { status: "skipped" };
    }

    const secret = await decryptOrFail(deps, data, log);
    if (redelivery?.emailOnly && secret.email === undefined) {
      log.info("handset error reported and no email address known, nothing to re-send");
      return { status: "skipped" };
    }
    await deps.store.transition(otpId, "sending");
    const template = { code: secret.code, appName: deps.appName, ttlSeconds: deps.ttlSeconds, locale: secret.locale };
    const smsBody = renderSms(template);
    // Set when a receipt that raced the submission record calls for the one re-send.
    let heldRedelivery: Redelivery | undefined;
    deps.observer?.smsRendered?.(smsBody);

    const outcome = await deps.chain.deliver(
      {
        otpId,
        to: secret.to,
        country: data.country,
        smsBody,
        email: secret.email,
        emailContent: secret.email === undefined ? undefined : renderEmail(template),
        ...(redelivery === undefined ? {} : { excludeProviders: redelivery.exclude, emailOnly: redelivery.emailOnly }),
      },
      ledgerFor(deps.store, otpId, redelivery, now, (provider, receipts) => {
        heldRedelivery ??= redelivery === undefined ? redeliveryForHeldReceipts(provider, receipts) : undefined;
      }),
    );
    if (outcome.status === "failed" && outcome.noRoute && redelivery !== undefined) {
      // Every provider is excluded and there is no email address: a retry would find the same.
      log.info({ exclude: redelivery.exclude }, "no other route for the re-send a receipt requested, nothing re-sent");
      return { status: "skipped" };
    }
    if (outcome.status === "accepted" && heldRedelivery !== undefined) {
      await addHeldFollowUp(deps, job, { ...data, redelivery: heldRedelivery }, log);
    }

    if (outcome.status === "accepted") {
      // An empty reason clears the "retrying: ..." note an earlier failed attempt left.
      await deps.store.transition(otpId, "sent", { channel: outcome.channel, sentAt: now(), reason: "" });
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

/** `reason` of a verification whose code was not sent because it could no longer be verified. */
const CLOSED_REASONS = {
  superseded: "superseded: a newer code to this recipient replaced this one before it was sent",
  locked: "locked: too many wrong codes were tried before this one was sent",
} as const;

/** Reason BullMQ gives a job that stalled more often than `maxStalledCount` allows. */
const STALL_LIMIT_REASON = "job stalled more than allowable limit";

/**
 * Brings the record in line with a job BullMQ failed for good without the processor deciding the
 * outcome: a job whose workers stopped mid-job more often than `maxStalledCount` allows, which
 * BullMQ fails without running it, or an unexpected error on the last attempt. Without this
 * `GET /v1/otp/:id` would read "queued" or "sending" until the code expired. A job that had
 * already reached a provider is marked sent, since the code went out.
 */
export function createFailedJobRecorder(
  deps: Pick<ProcessorDeps, "store" | "logger" | "observer" | "now">,
): (job: Job, error: Error) => Promise<void> {
  const now = deps.now ?? Date.now;
  return async (job, error) => {
    // BullMQ sets finishedOn only when the job moves to failed, not when it schedules a retry.
    if (job.finishedOn === undefined) return;
    const parsed = deliveryJobDataSchema.safeParse(job.data);
    if (!parsed.success) return;
    const { otpId } = parsed.data;
    const record = await deps.store.get(otpId, now());
    if (record === undefined || (record.status !== "queued" && record.status !== "sending")) return;

    const log = deps.logger.child({ otpId, jobId: job.id });
    const acceptedBy = await deps.store.getAcceptance(otpId);
    if (acceptedBy !== undefined) {
      await deps.store.transition(otpId, "sent", { reason: "" });
      log.warn({ provider: acceptedBy }, "failed job had reached a provider, verification marked sent");
      return;
    }
    const reason =
      error.message === STALL_LIMIT_REASON
        ? "worker: the delivery job stopped mid-run on more than two workers (crashes or kills), so it was not run again"
        : "worker: the last delivery attempt ended on an internal error; the worker log has the details for this job";
    // A worker that died mid-job, or hit an error mid-chain, may have handed the code over first.
    if (await deps.store.transition(otpId, "failed", { reason, deliveryUncertain: 1 })) {
      deps.observer?.jobCompleted?.("failed");
      log.warn({ reason }, "verification marked failed after its job failed");
    }
  };
}

function parseJobData(job: Job): DeliveryJobData {
  const parsed = deliveryJobDataSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`job ${job.id} has malformed data`);
  return parsed.data;
}

/**
 * Decrypts the payload, or marks the verification failed with the reason and throws
 * UnrecoverableError, so `GET /v1/otp/:id` shows why no code was sent.
 */
async function decryptOrFail(deps: ProcessorDeps, data: DeliveryJobData, log: Logger) {
  try {
    return decryptPayload(deps.cipher, data);
  } catch (error) {
    const reason =
      "payload: the job could not be decrypted; the worker's OTP_SECRET (or OTP_SECRET_PREVIOUS) must match the API's";
    await deps.store.transition(data.otpId, "failed", { reason });
    deps.observer?.jobCompleted?.("failed");
    log.error({ err: error }, "job payload rejected");
    throw error;
  }
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

function ledgerFor(
  store: OtpStore,
  otpId: string,
  redelivery: Redelivery | undefined,
  now: () => number,
  onHeldReceipts: (provider: string, receipts: HeldReceiptOutcome[]) => void,
): DeliveryLedger {
  return {
    appendAttempt: (attempt) => store.appendAttempt(otpId, attempt),
    async recordAcceptance(provider, channel, messageId) {
      // HSETNX in both cases: a re-send is recorded apart from the first acceptance, so it happens once.
      const first = redelivery
        ? await store.recordRedeliveryAcceptance(otpId, provider)
        : await store.recordAcceptance(otpId, provider, channel, messageId);
      // The message id index lets a delivery receipt find this verification.
      // Receipts that arrived before it are applied in the same step.
      if (channel === "sms" && messageId !== undefined) {
        const submission = await store.recordSubmission(otpId, provider, messageId, now());
        if (submission.heldReceipts.length > 0) onHeldReceipts(provider, submission.heldReceipts);
      }
      return first;
    },
  };
}

/**
 * Enqueues the re-send that a receipt held before the submission was recorded calls for, as the
 * API does for a receipt that found its message. The same job id keeps it to one re-send. A failure
 * is logged and not thrown: the code was accepted, and a retried job would not send it again.
 */
async function addHeldFollowUp(
  deps: ProcessorDeps,
  job: Job,
  data: DeliveryJobData & { redelivery: Redelivery },
  log: Logger,
): Promise<void> {
  const jobId = redeliveryJobId(data.otpId);
  try {
    await (deps.addFollowUp ?? addToJobQueue)(job, jobId, data);
    log.info({ redelivery: data.redelivery }, "delivery receipt held before the submission triggered a re-send");
  } catch (err) {
    log.error({ err }, "could not enqueue the re-send a held delivery receipt called for");
  }
}

function addToJobQueue(job: Job, jobId: string, data: DeliveryJobData & { redelivery: Redelivery }): Promise<unknown> {
  const queue = (job as unknown as { queue: Parameters<typeof Job.create>[0] }).queue;
  return Job.create(queue, job.name, data, { jobId, attempts: job.opts.attempts, backoff: job.opts.backoff });
}
