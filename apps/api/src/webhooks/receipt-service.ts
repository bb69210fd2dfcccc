import {
  type DeliveryJobData,
  type DeliveryState,
  type Logger,
  type OtpStore,
  type ReceiptResult,
  verificationClosed,
} from "@otpin/core";
import type { Redis } from "ioredis";
import type { DeliveryQueue } from "../delivery-queue.js";
import { waitForConnection, withRedisDeadline } from "../redis-guard.js";
import type { ReceiptEvents, ReceiptOutcome } from "./receipt-events.js";
import type { ParsedReceipt, ReceiptPolicy, ReceiptProvider, WebhookRequest } from "./receipt-provider.js";

export interface ReceiptServiceOptions {
  store: OtpStore;
  queue: Pick<DeliveryQueue, "addFollowUp">;
  logger: Logger;
  events: ReceiptEvents;
  clock: () => number;
  /** Connection the store uses: a receipt waits at most `timeoutMs` for it, then gets 503 and is retried. */
  redis: Redis;
  timeoutMs: number;
  /**
   * How long a receipt for a message id that is not indexed yet is kept for the worker's
   * `recordSubmission` to apply. Default `HELD_RECEIPT_TTL_MS`.
   */
  heldReceiptTtlMs?: number;
}

/**
 * Default time a receipt that raced the worker's submission record is kept: the default OTP TTL.
 * The worker records a submission right after the provider accepted it, so this is ample.
 */
export const HELD_RECEIPT_TTL_MS = 300_000;

/** Result of one webhook call: the HTTP status of the response and what happened. */
export interface ReceiptHandling {
  httpStatus: 200 | 403;
  outcome: ReceiptOutcome;
}

/** Job id of the one follow-up delivery a receipt may trigger. BullMQ refuses `:` in custom ids. */
export function redeliveryJobId(otpId: string): string {
  return `${otpId}-redeliver`;
}

/**
 * Applies signed delivery receipts to verification records and acts on undelivered ones. After a
 * route or account error, the code is re-sent once through the next provider, with the same code.
 * After a handset error, it goes to the email fallback when the request had an address.
 */
export class ReceiptService {
  constructor(private readonly options: ReceiptServiceOptions) {}

  /**
   * @throws UnavailableError when Redis does not finish the work within the deadline, so the
   *   caller responds 503 and the provider retries. The retry is then a duplicate receipt, which
   *   enqueues the same follow-up job id again.
   */
  async handle(provider: ReceiptProvider, request: WebhookRequest): Promise<ReceiptHandling> {
    const { logger } = this.options;
    if (!provider.verify(request)) {
      logger.warn({ provider: provider.name }, "delivery receipt signature invalid, rejected");
      return this.done(provider, 403, "invalid_signature");
    }
    const receipt = provider.parse(request.params);
    if (receipt === undefined) {
      logger.warn({ provider: provider.name }, "delivery receipt without a message id or known status, ignored");
      return this.done(provider, 200, "malformed");
    }
    // Every Redis step runs under one deadline: a stalled Redis gets 503, never a hung request or a 500.
    return withRedisDeadline(this.options.timeoutMs, "handling a delivery receipt", async (signal) => {
      await waitForConnection(this.options.redis, signal);
      const otpId =
        (await this.options.store.findByMessage(provider.name, receipt.messageId)) ?? (await this.hold(provider, receipt));
      if (otpId === undefined) return this.done(provider, 200, "unknown_message");
      return this.apply(provider, otpId, receipt);
    });
  }

  /**
   * Keeps a receipt whose message id is not indexed yet: the provider may call back as soon as it
   * accepted, before the worker recorded the submission. The worker's `recordSubmission` applies
   * it, and runs the policy stored with it. Returns the otp id when the index appeared meanwhile.
   */
  private async hold(provider: ReceiptProvider, receipt: ParsedReceipt): Promise<string | undefined> {
    const { store, logger, clock } = this.options;
    const fields = { provider: provider.name, messageId: receipt.messageId, state: receipt.state };
    // An interim status changes nothing even once the message is known, so it is not kept.
    if (receipt.state === "submitted") {
      logger.info(fields, "interim delivery receipt for an unknown message, ignored");
      return undefined;
    }
    const policy = receipt.state === "undelivered" ? provider.policy(receipt.errorCode) : undefined;
    const ttlMs = this.options.heldReceiptTtlMs ?? HELD_RECEIPT_TTL_MS;
    const otpId = await store.holdReceipt(
      provider.name,
      { messageId: receipt.messageId, state: receipt.state, errorCode: receipt.errorCode, at: clock(), policy },
      ttlMs,
    );
    if (otpId === undefined)
      logger.info({ ...fields, ttlMs }, "delivery receipt for an unknown message, kept until the submission is recorded");
    return otpId;
  }

  private async apply(provider: ReceiptProvider, otpId: string, receipt: ParsedReceipt): Promise<ReceiptHandling> {
    const { store, logger, clock } = this.options;
    const result = await store.applyReceipt(otpId, { provider: provider.name, ...receipt, at: clock() });
    const outcome = receiptOutcome(receipt.state, result);
    logger.info(
      {
        otpId,
        provider: provider.name,
        messageId: receipt.messageId,
        state: receipt.state,
        errorCode: receipt.errorCode,
        result,
      },
      "delivery receipt handled",
    );
    // A duplicate runs the policy again: the follow-up job id makes that idempotent, and it covers
    // a first attempt whose enqueue failed after the state was written.
    const undelivered = receipt.state === "undelivered" && (result === "applied" || result === "duplicate");
    const policy = undelivered ? provider.policy(receipt.errorCode) : undefined;
    if (policy !== undefined) await this.redeliver(otpId, provider.name, policy, receipt.errorCode);
    return this.done(provider, 200, outcome);
  }

  private async redeliver(otpId: string, provider: string, policy: ReceiptPolicy, errorCode: string | undefined): Promise<void> {
    const { store, queue, logger, clock } = this.options;
    const record = await store.get(otpId, clock());
    // A code that can no longer be verified (verified, expired, replaced or locked) is not sent again.
    if (record === undefined || verificationClosed(record) !== undefined) return;
    const source = await store.getRedeliverySource(otpId);
    if (source === undefined) {
      logger.warn({ otpId, provider }, "no stored payload for this verification, cannot re-send");
      return;
    }
    const data: DeliveryJobData & { redelivery: { exclude: string[]; emailOnly: boolean } } = {
      otpId,
      ...source,
      redelivery: { exclude: [provider], emailOnly: policy === "handset" },
    };
    const added = await queue.addFollowUp(redeliveryJobId(otpId), data);
    if (added) logger.info({ otpId, provider, errorCode, policy }, "delivery receipt triggered a re-send");
    else logger.debug({ otpId, provider, errorCode }, "re-send already queued by an earlier receipt");
  }

  private done(provider: ReceiptProvider, httpStatus: 200 | 403, outcome: ReceiptOutcome): ReceiptHandling {
    try {
      this.options.events.receipt(provider.name, outcome);
    } catch (err) {
      this.options.logger.warn({ err }, "receipt events hook failed");
    }
    return { httpStatus, outcome };
  }
}

/**
 * Maps a store result to the metric outcome. An interim receipt (`sent`, `queued`, `buffered`)
 * that finds the message already `submitted` is `ignored`, as the README documents, not a duplicate.
 */
function receiptOutcome(state: DeliveryState, result: ReceiptResult): ReceiptOutcome {
  if (result === "applied") return state;
  if (result === "missing") return "unknown_message";
  if (result === "duplicate" && state === "submitted") return "ignored";
  return result;
}
