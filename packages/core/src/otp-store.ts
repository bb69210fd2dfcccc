import type { Redis } from "ioredis";
import { codeMatches } from "./codes.js";
import { AlreadyVerifiedError, ExpiredError, LockedError, NotFoundError } from "./errors.js";

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
  reason: string | undefined;
  acceptedProvider: string | undefined;
  attempts: DeliveryAttempt[];
}

export interface NewOtpRecord {
  id: string;
  maskedTo: string;
  country: string | null;
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  maxVerifyAttempts: number;
}

export type VerifyResult = { valid: true } | { valid: false; attemptsRemaining: number };

/** How long a record outlives its code, so callers can still read the final status. */
export const RECORD_RETENTION_MS = 60 * 60 * 1000;

// Each script runs atomically in Redis, so concurrent verifications and status updates from
// several API replicas and workers cannot interleave between a check and a write.
const VERIFY_SCRIPT = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {'not_found'} end
local status = redis.call('HGET', key, 'status')
if status == 'verified' then return {'already_verified'} end
local failed = tonumber(redis.call('HGET', key, 'failedVerifications') or '0')
local max = tonumber(redis.call('HGET', key, 'maxVerifyAttempts'))
if failed >= max then return {'locked'} end
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', key, 'expiresAt')) then return {'expired'} end
if ARGV[2] == '1' then
  redis.call('HSET', key, 'status', 'verified', 'verifiedAt', ARGV[1])
  return {'valid'}
end
failed = redis.call('HINCRBY', key, 'failedVerifications', 1)
return {'invalid', tostring(max - failed)}
`;

// Moves the status forward unless the record is already in a final state.
const TRANSITION_SCRIPT = `
local key = KEYS[1]
local status = redis.call('HGET', key, 'status')
if not status then return 0 end
if status == 'verified' then return 0 end
if status == 'sent' and ARGV[1] ~= 'sent' then return 0 end
redis.call('HSET', key, 'status', ARGV[1])
for i = 2, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
return 1
`;

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
      })
      .pexpireat(this.key(record.id), expireAt)
      .exec();
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
      reason: fields.reason || undefined,
      acceptedProvider: fields.acceptedProvider || undefined,
      attempts: attempts.map((entry) => JSON.parse(entry) as DeliveryAttempt),
    };
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
   * recorded, which tells a redelivered job not to send again.
   */
  async recordAcceptance(id: string, provider: string, channel: Channel): Promise<boolean> {
    const first = await this.redis.hsetnx(this.key(id), "acceptedProvider", provider);
    if (first === 1) await this.redis.hset(this.key(id), "channel", channel);
    return first === 1;
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
      case "locked":
        throw new LockedError(`verification ${id} is locked after too many wrong codes; request a new code`);
      case "expired":
        throw new ExpiredError(`verification ${id} has expired; request a new code`);
      default:
        throw new Error(`unexpected verify outcome ${outcome}`);
    }
  }
}
