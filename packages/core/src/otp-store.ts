import type { Redis } from "ioredis";
import { codeMatches } from "./codes.js";
import { AlreadyVerifiedError, ExpiredError, LockedError, NotFoundError, SupersededError } from "./errors.js";
import {
  HOLD_RECEIPT_SCRIPT,
  RECEIPT_SCRIPT,
  SUBMISSION_SCRIPT,
  SUPERSEDE_SCRIPT,
  TRANSITION_SCRIPT,
  VERIFY_SCRIPT,
} from "./otp-store-scripts.js";
import type { EncryptedPayload } from "./secrets.js";

export const OTP_STATUSES = ["queued", "sending", "sent", "failed", "verified", "expired"] as const;
export type OtpStatus = (typeof OTP_STATUSES)[number];

export type Channel = "sms" | "email";

/** One delivery attempt as shown by `GET /v1/otp/:id`. */
export interface DeliveryAttempt {
  provider: string;
  outcome: "accepted" | "failed";
  errorClass?: string | undefined;
  errorCode?: string | undefined;
  messageId?: string | undefined;
  latencyMs: number;
  at: string;
}

/**
 * Carrier verdict on the SMS, from delivery receipts. `submitted` from the provider's acceptance
 * until a receipt reports `delivered` or `undelivered`. Separate from `status`, which it never changes.
 */
export const DELIVERY_STATES = ["submitted", "delivered", "undelivered"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface DeliveryReceiptState {
  status: DeliveryState;
  provider: string;
  messageId: string;
  /** Provider error code from the receipt that made it `undelivered`. */
  errorCode: string | undefined;
  /** Epoch milliseconds of the last change. */
  at: number;
}

/** What `applyReceipt` did with one receipt. */
export type ReceiptResult =
  | "applied" // the state changed
  | "duplicate" // the state already was this one
  | "ignored" // refused: `delivered` never moves back, and a progress receipt changes nothing
  | "superseded" // the receipt is for an earlier message of this otp (before a re-send)
  | "missing"; // no record

/** A receipt kept because it arrived before its message id was indexed. Holds no number or code. */
export interface HeldReceipt {
  messageId: string;
  state: DeliveryState;
  errorCode?: string | undefined;
  /** Epoch milliseconds the receipt arrived. */
  at: number;
  /** Policy the API chose for this receipt when it is `undelivered`: `route` or `handset`. */
  policy?: string | undefined;
}

/** A held receipt that `recordSubmission` applied, with what `applyReceipt` would have returned. */
export interface AppliedHeldReceipt {
  state: DeliveryState;
  errorCode: string | undefined;
  policy: string | undefined;
  result: ReceiptResult;
}

/** Result of `recordSubmission`: `recorded` is false when the record is gone. */
export interface SubmissionResult {
  recorded: boolean;
  /** Receipts that arrived before the submission was recorded, applied in arrival order. */
  heldReceipts: AppliedHeldReceipt[];
}

/** Most receipts kept for one message id that is not indexed yet; a provider sends two or three. */
const MAX_HELD_RECEIPTS = 10;

export interface OtpRecord {
  id: string;
  status: OtpStatus;
  channel: Channel;
  /** Masked destination, never the full number. */
  to: string;
  country: string | null;
  createdAt: number;
  expiresAt: number;
  failedVerifications: number;
  maxVerifyAttempts: number;
  /** True once a newer code to the same recipient replaced this one (INVALIDATE_PREVIOUS_CODES). */
  superseded: boolean;
  /** True when the delivery failed but a worker may have handed the code to a provider first. */
  deliveryUncertain: boolean;
  reason: string | undefined;
  acceptedProvider: string | undefined;
  attempts: DeliveryAttempt[];
  /** Receipt state of the last SMS accepted by a provider; undefined before that. */
  delivery: DeliveryReceiptState | undefined;
}

export interface NewOtpRecord {
  id: string;
  maskedTo: string;
  country: string | null;
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  maxVerifyAttempts: number;
  /** The job's encrypted payload, kept so a receipt can trigger a re-send without the plaintext. */
  payload?: EncryptedPayload;
}

/** What a re-send needs from the record to rebuild the delivery job. */
export interface RedeliverySource {
  country: string | null;
  createdAt: number;
  expiresAt: number;
  payload: EncryptedPayload;
}

export type VerifyResult = { valid: true } | { valid: false; attemptsRemaining: number };

/** Reason a verification's code can no longer be verified, so sending it again is wasted. */
export type ClosedReason = "verified" | "expired" | "superseded" | "locked";

/**
 * Returns why the code of `record` can no longer be verified, in the order the verify route
 * checks them, or undefined while it still can. A code in this state is not worth sending.
 */
export function verificationClosed(record: OtpRecord): ClosedReason | undefined {
  if (record.status === "verified" || record.status === "expired") return record.status;
  if (record.superseded) return "superseded";
  if (record.failedVerifications >= record.maxVerifyAttempts) return "locked";
  return undefined;
}

/** Error classes after which a provider may still have accepted the message: no response came in time, or the connection broke after the request went out. */
const UNCERTAIN_ERROR_CLASSES: ReadonlySet<string> = new Set(["timeout", "unknown"]);

/**
 * Tells whether the code of a verification whose delivery failed may still have reached the user.
 * Its verification then stays open, because refusing a code the user holds locks them out.
 */
export function mayHaveBeenDelivered(record: OtpRecord): boolean {
  if (record.deliveryUncertain) return true;
  return record.attempts.some((attempt) => attempt.outcome === "failed" && UNCERTAIN_ERROR_CLASSES.has(attempt.errorClass ?? ""));
}

/** How long a record outlives its code, so callers can still read the final status. */
export const RECORD_RETENTION_MS = 60 * 60 * 1000;

/** Verification records in Redis: status, code hash, expiry, attempt counters and the delivery ledger. */
export class OtpStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:otp:${id}`;
  }

  private attemptsKey(id: string): string {
    return `${this.prefix}:otp:${id}:attempts`;
  }

  private messageKey(provider: string, messageId: string): string {
    return `${this.prefix}:msg:${provider}:${messageId}`;
  }

  private heldReceiptsKey(provider: string, messageId: string): string {
    return `${this.prefix}:msg-held:${provider}:${messageId}`;
  }

  async create(record: NewOtpRecord): Promise<void> {
    const expireAt = record.expiresAt + RECORD_RETENTION_MS;
    await this.redis
      .multi()
      .hset(this.key(record.id), {
        status: "queued",
        channel: "sms",
        to: record.maskedTo,
        country: record.country ?? "",
        codeHash: record.codeHash,
        createdAt: record.createdAt,
        expiresAt: record.expiresAt,
        failedVerifications: 0,
        maxVerifyAttempts: record.maxVerifyAttempts,
        ...(record.payload === undefined ? {} : { payload: JSON.stringify(record.payload) }),
      })
      .pexpireat(this.key(record.id), expireAt)
      .exec();
  }

  /**
   * Makes `id` the newest verification of a recipient and marks the one it replaces as superseded,
   * so its code no longer verifies. `recipientHash` is a keyed hash of the number, never the number.
   * Returns the id it replaced, if any.
   */
  async supersedePrevious(recipientHash: string, id: string, expireAt: number): Promise<string | undefined> {
    const replaced = await this.redis.eval(
      SUPERSEDE_SCRIPT,
      1,
      this.recipientKey(recipientHash),
      id,
      String(expireAt),
      `${this.prefix}:otp:`,
    );
    return typeof replaced === "string" ? replaced : undefined;
  }

  private recipientKey(recipientHash: string): string {
    return `${this.prefix}:recipient:${recipientHash}`;
  }

  /** Deletes a record whose job could not be enqueued, so no orphan is left behind. */
  async delete(id: string): Promise<void> {
    await this.redis.del(this.key(id), this.attemptsKey(id));
  }

  async get(id: string, now = Date.now()): Promise<OtpRecord | undefined> {
    const [[, fields], [, attempts]] = (await this.redis
      .multi()
      .hgetall(this.key(id))
      .lrange(this.attemptsKey(id), 0, -1)
      .exec()) as [[Error | null, Record<string, string>], [Error | null, string[]]];
    if (!fields || fields.status === undefined) return undefined;
    const expiresAt = Number(fields.expiresAt);
    let status = fields.status as OtpStatus;
    if (status !== "verified" && now > expiresAt) status = "expired";
    return {
      id,
      status,
      channel: (fields.channel as Channel) ?? "sms",
      to: fields.to ?? "",
      country: fields.country || null,
      createdAt: Number(fields.createdAt),
      expiresAt,
      failedVerifications: Number(fields.failedVerifications ?? 0),
      maxVerifyAttempts: Number(fields.maxVerifyAttempts),
      superseded: fields.superseded === "1",
      deliveryUncertain: fields.deliveryUncertain === "1",
      reason: fields.reason || undefined,
      acceptedProvider: fields.acceptedProvider || undefined,
      attempts: attempts.map((entry) => JSON.parse(entry) as DeliveryAttempt),
      delivery: readDeliveryState(fields),
    };
  }

  /**
   * Indexes a provider's message id to this record and marks the SMS `submitted`, so receipts can
   * find it. The index expires with the record. Receipts held for this message id (see
   * `holdReceipt`) are applied in the same atomic step, with the rules of `applyReceipt`.
   * `recorded` is false when the record is gone.
   */
  async recordSubmission(id: string, provider: string, messageId: string, at = Date.now()): Promise<SubmissionResult> {
    const keys = [this.key(id), this.messageKey(provider, messageId), this.heldReceiptsKey(provider, messageId)];
    const reply = (await this.redis.eval(SUBMISSION_SCRIPT, 3, ...keys, id, provider, messageId, String(at))) as (
      | number
      | string
    )[];
    const heldReceipts: AppliedHeldReceipt[] = [];
    for (let i = 1; i + 3 < reply.length; i += 4) {
      heldReceipts.push({
        state: reply[i] as DeliveryState,
        errorCode: (reply[i + 1] as string) || undefined,
        policy: (reply[i + 2] as string) || undefined,
        result: reply[i + 3] as ReceiptResult,
      });
    }
    return { recorded: reply[0] === 1, heldReceipts };
  }

  /**
   * Keeps a receipt for a message id that is not indexed yet, for `ttlMs`, so `recordSubmission`
   * applies it: a provider may call back before the worker recorded its acceptance. Returns the
   * otp id instead, keeping nothing, when the index was written meanwhile.
   */
  async holdReceipt(provider: string, receipt: HeldReceipt, ttlMs: number): Promise<string | undefined> {
    const entry = JSON.stringify({
      state: receipt.state,
      errorCode: receipt.errorCode ?? "",
      // A string, so Lua does not turn it into a float in exponent notation.
      at: String(receipt.at),
      policy: receipt.policy ?? "",
    });
    const keys = [this.messageKey(provider, receipt.messageId), this.heldReceiptsKey(provider, receipt.messageId)];
    const id = await this.redis.eval(
      HOLD_RECEIPT_SCRIPT,
      2,
      ...keys,
      entry,
      String(Math.max(1, Math.round(ttlMs))),
      MAX_HELD_RECEIPTS,
    );
    return typeof id === "string" ? id : undefined;
  }

  /** Returns the otp id that a provider message id belongs to, or undefined when unknown or expired. */
  async findByMessage(provider: string, messageId: string): Promise<string | undefined> {
    return (await this.redis.get(this.messageKey(provider, messageId))) ?? undefined;
  }

  /**
   * Applies a delivery receipt atomically: `delivered` is final, a repeated state is a duplicate,
   * and a receipt for a message other than the tracked one changes nothing.
   */
  async applyReceipt(
    id: string,
    receipt: { provider: string; messageId: string; state: DeliveryState; errorCode?: string | undefined; at?: number },
  ): Promise<ReceiptResult> {
    const args = [receipt.provider, receipt.messageId, receipt.state, receipt.errorCode ?? "", String(receipt.at ?? Date.now())];
    return (await this.redis.eval(RECEIPT_SCRIPT, 1, this.key(id), ...args)) as ReceiptResult;
  }

  /** Returns the stored job payload and timing for a re-send, or undefined when the record has none. */
  async getRedeliverySource(id: string): Promise<RedeliverySource | undefined> {
    const fields = ["payload", "country", "createdAt", "expiresAt"];
    const [payload, country, createdAt, expiresAt] = await this.redis.hmget(this.key(id), ...fields);
    if (payload === null || payload === undefined) return undefined;
    return {
      payload: JSON.parse(payload) as EncryptedPayload,
      country: country || null,
      createdAt: Number(createdAt),
      expiresAt: Number(expiresAt),
    };
  }

  /**
   * Records the provider that accepted the one re-send a receipt may trigger. Returns false when a
   * re-send was already accepted, so a repeated follow-up job does not send again.
   */
  async recordRedeliveryAcceptance(id: string, provider: string): Promise<boolean> {
    return (await this.redis.hsetnx(this.key(id), "redeliveredBy", provider)) === 1;
  }

  async getRedeliveryAcceptance(id: string): Promise<string | undefined> {
    return (await this.redis.hget(this.key(id), "redeliveredBy")) ?? undefined;
  }

  /**
   * Sets a new status and extra fields. A verified record never changes again, and a sent one
   * changes only to sent. Returns false when the record is gone or the change was refused.
   */
  async transition(id: string, status: OtpStatus, fields: Record<string, string | number> = {}): Promise<boolean> {
    const args = [status, ...Object.entries(fields).flatMap(([name, value]) => [name, String(value)])];
    const changed = await this.redis.eval(TRANSITION_SCRIPT, 1, this.key(id), ...args);
    return changed === 1;
  }

  async appendAttempt(id: string, attempt: DeliveryAttempt): Promise<void> {
    const key = this.attemptsKey(id);
    const ttl = await this.redis.pttl(this.key(id));
    const multi = this.redis.multi().rpush(key, JSON.stringify(attempt));
    if (ttl > 0) multi.pexpire(key, ttl);
    await multi.exec();
  }

  /**
   * Records that a provider accepted the message. Returns false when an acceptance was already
   * recorded, so a redelivered job does not send again.
   */
  async recordAcceptance(id: string, provider: string, channel: Channel, messageId?: string): Promise<boolean> {
    const first = await this.redis.hsetnx(this.key(id), "acceptedProvider", provider);
    if (first === 1) {
      const fields: Record<string, string> = { channel };
      if (messageId !== undefined) fields.acceptedMessageId = messageId;
      await this.redis.hset(this.key(id), fields);
    }
    return first === 1;
  }

  /**
   * Returns the first acceptance's SMS message id when its submission (the message-id index that
   * receipts need) was never recorded, for example because the worker died between the two writes.
   */
  async getUnindexedAcceptance(id: string): Promise<{ provider: string; messageId: string } | undefined> {
    const [provider, channel, messageId, indexed] = await this.redis.hmget(
      this.key(id),
      "acceptedProvider",
      "channel",
      "acceptedMessageId",
      "deliveryMessageId",
    );
    if (!provider || channel !== "sms" || !messageId || indexed) return undefined;
    return { provider, messageId };
  }

  async getAcceptance(id: string): Promise<string | undefined> {
    return (await this.redis.hget(this.key(id), "acceptedProvider")) ?? undefined;
  }

  /**
   * Checks a submitted code. A correct code verifies once; a wrong one uses up an attempt.
   *
   * @throws NotFoundError, ExpiredError, AlreadyVerifiedError or LockedError.
   */
  async verify(id: string, code: string, codeHashKey: Buffer, now = Date.now()): Promise<VerifyResult> {
    const storedHash = await this.redis.hget(this.key(id), "codeHash");
    if (storedHash === null) throw new NotFoundError(`verification ${id} was not found; it may have expired and been removed`);
    const matches = codeMatches(codeHashKey, id, code, storedHash);
    const [outcome, remaining] = (await this.redis.eval(VERIFY_SCRIPT, 1, this.key(id), String(now), matches ? "1" : "0")) as [
      string,
      string | undefined,
    ];
    switch (outcome) {
      case "valid":
        return { valid: true };
      case "invalid":
        return { valid: false, attemptsRemaining: Number(remaining) };
      case "not_found":
        throw new NotFoundError(`verification ${id} was not found; it may have expired and been removed`);
      case "already_verified":
        throw new AlreadyVerifiedError(`verification ${id} was already used; request a new code`);
      case "superseded":
        throw new SupersededError(`verification ${id} was replaced by a newer code sent to the same number; use the newest code`);
      case "locked":
        throw new LockedError(`verification ${id} is locked after too many wrong codes; request a new code`);
      case "expired":
        throw new ExpiredError(`verification ${id} has expired; request a new code`);
      default:
        throw new Error(`unexpected verify outcome ${outcome}`);
    }
  }
}

function readDeliveryState(fields: Record<string, string>): DeliveryReceiptState | undefined {
  const status = fields.deliveryStatus as DeliveryState | undefined;
  if (status === undefined || !DELIVERY_STATES.includes(status)) return undefined;
  return {
    status,
    provider: fields.deliveryProvider ?? "",
    messageId: fields.deliveryMessageId ?? "",
    errorCode: fields.deliveryErrorCode || undefined,
    at: Number(fields.deliveryAt),
  };
}
