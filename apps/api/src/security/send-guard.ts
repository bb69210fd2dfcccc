import { type ApiConfig, RateLimitedError } from "@otpin/core";
import type { Redis } from "ioredis";
import { clientIpBucket } from "./client-ip.js";
import { enforceGeography } from "./geography.js";
import { lookupHash } from "./lookup-hash.js";
import { type Counter, type LimitName, RateLimiter } from "./rate-limiter.js";
import type { SecurityEvents } from "./security-events.js";
import { SpendGuard } from "./spend-guard.js";

/** Facts about one send that the guard checks. */
export interface SendAttempt {
  /** Verification id, unique per request; recorded in the sliding windows. */
  id: string;
  e164: string;
  country: string | null;
  /** Name of the API key that sent it. */
  apiKeyName: string;
  /** The end user's address: the request's `clientIp`, else the socket peer (or X-Forwarded-For from TRUST_PROXY). */
  clientIp: string | undefined;
  now: number;
}

/** Counters a send took, so they can be given back when the send is not enqueued after all. */
export interface Admission {
  id: string;
  counters: readonly Counter[];
}

const SECOND = 1000;
const HOUR = 3_600_000;
/** Digits of a number that differ within one "range"; E.164 without them is the range prefix. */
const RANGE_SUFFIX_DIGITS = 3;

/**
 * Everything a send must pass before it is stored or enqueued: geography, then every rate limit
 * and the spend budget in one atomic Redis step. Redis keys hold keyed hashes, never a number or address.
 */
export class SendGuard {
  private readonly limiter: RateLimiter;
  private readonly spend: SpendGuard;

  constructor(
    private readonly config: ApiConfig,
    redis: Redis,
    private readonly lookupKey: Buffer,
    private readonly events: SecurityEvents,
  ) {
    this.limiter = new RateLimiter(redis);
    this.spend = new SpendGuard(config);
  }

  /** Keyed hash of a recipient, for the Redis index of its latest verification. */
  recipientHash(e164: string): string {
    return lookupHash(this.lookupKey, "recipient", e164);
  }

  /**
   * @throws CountryBlockedError when geography rejects the destination; RateLimitedError naming
   *   the limit, with the seconds until a retry can pass.
   */
  async admit(attempt: SendAttempt): Promise<Admission> {
    enforceGeography(this.config, attempt.country, this.events);
    const counters = this.counters(attempt);
    const outcome = await this.limiter.consume(counters, attempt.now, attempt.id);
    if (outcome.admitted) return { id: attempt.id, counters };
    this.events.blocked(outcome.limit);
    if (outcome.limit === "spend_budget") this.events.spendBudgetExceeded(attempt.country ?? "unknown");
    const retryAfterSeconds = Math.max(1, Math.ceil(outcome.retryAfterMs / SECOND));
    throw new RateLimitedError(rejectionMessage(outcome.limit, retryAfterSeconds), retryAfterSeconds, outcome.limit);
  }

  /** Gives back an admission whose verification was not enqueued. */
  async release(admission: Admission): Promise<void> {
    await this.limiter.release(admission.counters, admission.id);
  }

  private counters(attempt: SendAttempt): Counter[] {
    const { config } = this;
    const prefix = `${config.QUEUE_PREFIX}:limit`;
    const recipient = this.recipientHash(attempt.e164);
    const range = lookupHash(this.lookupKey, "range", attempt.e164.slice(0, -RANGE_SUFFIX_DIGITS));
    // A value that is not an address, such as a proxy's "unknown", shares one bucket instead of escaping the limit.
    const ipBucket = attempt.clientIp === undefined ? undefined : (clientIpBucket(attempt.clientIp) ?? "unparseable");
    const windows: [LimitName, string | undefined, number, number][] = [
      ["recipient_cooldown", `recipient-cooldown:${recipient}`, 1, config.RECIPIENT_COOLDOWN_SECONDS * SECOND],
      ["recipient_hourly", `recipient-hourly:${recipient}`, config.RECIPIENT_HOURLY_LIMIT, HOUR],
      ["number_range", `range:${range}`, config.NUMBER_RANGE_LIMIT, config.NUMBER_RANGE_WINDOW_SECONDS * SECOND],
      [
        "client_ip",
        ipBucket === undefined ? undefined : `ip:${lookupHash(this.lookupKey, "ip", ipBucket)}`,
        config.CLIENT_IP_LIMIT,
        config.CLIENT_IP_WINDOW_SECONDS * SECOND,
      ],
      ["api_key", `api-key:${attempt.apiKeyName}`, config.API_KEY_LIMIT, config.API_KEY_WINDOW_SECONDS * SECOND],
    ];
    const counters: Counter[] = [];
    for (const [limit, key, max, windowMs] of windows) {
      // A zero limit (or a zero cooldown) turns that limit off.
      if (key === undefined || max === 0 || windowMs === 0) continue;
      counters.push({ limit, kind: "window", key: `${prefix}:${key}`, max, windowMs });
    }
    const budget = this.spend.counter(config.QUEUE_PREFIX, attempt.country, attempt.now);
    if (budget !== undefined) counters.push(budget);
    return counters;
  }
}

const REJECTIONS: Record<LimitName, string> = {
  recipient_cooldown: "a code was sent to this number moments ago; wait before asking for another",
  recipient_hourly: "this number received the most codes allowed in an hour",
  number_range: "too many codes went to numbers in this number range recently",
  client_ip: "too many codes were requested from this client address recently",
  api_key: "this API key sent the most codes allowed in its window",
  spend_budget: "the estimated SMS spend for this country reached its hourly budget",
};

function rejectionMessage(limit: LimitName, retryAfterSeconds: number): string {
  return `${REJECTIONS[limit]}; retry in ${retryAfterSeconds} s (limit ${limit})`;
}
