import type { Redis } from "ioredis";

/** Names of the limits; each appears as `limit` in the 429 body. */
export type LimitName = "recipient_cooldown" | "recipient_hourly" | "api_key" | "number_range" | "client_ip" | "spend_budget";

/**
 * One counter a request must fit in.
 *
 * - `window`: at most `max` requests in any sliding `windowMs` (a log of request times in a sorted set).
 * - `budget`: at most `max` units per fixed `windowMs` bucket; the request costs `amount` units.
 *   The bucket index belongs in `key`, so each bucket is its own key.
 */
export type Counter =
  | { limit: LimitName; kind: "window"; key: string; max: number; windowMs: number }
  | { limit: LimitName; kind: "budget"; key: string; max: number; windowMs: number; amount: number };

/** Outcome of a check: admitted, or refused by one limit with the time until a retry can pass. */
export type LimitOutcome = { admitted: true } | { admitted: false; limit: LimitName; retryAfterMs: number };

// Checks every counter first and records the request only when all of them have room, so a request
// refused by one limit never uses up another. Runs as one script: atomic across API replicas.
// ARGV: now, member, then per key: kind, max, windowMs, amount.
// Returns {0} when admitted, else {index of the refusing counter, milliseconds until it has room}.
const CONSUME_SCRIPT = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local worst, worstWait = 0, -1
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 4
  local kind, max, window, amount = ARGV[base + 1], tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  local wait = -1
  if kind == 'window' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local count = redis.call('ZCARD', key)
    if count >= max then
      local entry = redis.call('ZRANGE', key, count - max, count - max, 'WITHSCORES')
      wait = tonumber(entry[2]) + window - now
    end
  else
    local spent = tonumber(redis.call('GET', key) or '0')
    if spent + amount > max then wait = (math.floor(now / window) + 1) * window - now end
  end
  if wait >= 0 and wait > worstWait then worst, worstWait = i, wait end
end
if worst > 0 then return {worst, worstWait} end
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 4
  local kind, window, amount = ARGV[base + 1], tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  if kind == 'window' then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, window)
  else
    redis.call('INCRBY', key, amount)
    redis.call('PEXPIRE', key, window * 2)
  end
end
return {0, 0}
`;

/**
 * Redis's own clock in epoch milliseconds. Every API replica reads the same clock this way, so
 * replicas whose system clocks disagree still count in one shared window.
 */
export async function redisClock(redis: Redis): Promise<number> {
  const [seconds, microseconds] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
}

/**
 * Sliding-window and budget limits kept in Redis, shared by every API replica. Time comes from
 * the caller, so tests move a clock instead of sleeping; Redis TTLs only clean up old keys.
 */
export class RateLimiter {
  constructor(private readonly redis: Redis) {}

  /** Admits the request into every counter, or refuses it and changes none. `member` must be unique per request. */
  async consume(counters: readonly Counter[], now: number, member: string): Promise<LimitOutcome> {
    if (counters.length === 0) return { admitted: true };
    const args = counters.flatMap((counter) => [
      counter.kind,
      String(counter.max),
      String(counter.windowMs),
      String(counter.kind === "budget" ? counter.amount : 0),
    ]);
    const keys = counters.map((counter) => counter.key);
    const [index, waitMs] = (await this.redis.eval(CONSUME_SCRIPT, keys.length, ...keys, String(now), member, ...args)) as [
      number,
      number,
    ];
    const refusing = counters[index - 1];
    if (index === 0 || refusing === undefined) return { admitted: true };
    return { admitted: false, limit: refusing.limit, retryAfterMs: Math.max(0, waitMs) };
  }

  /** Gives back what `consume` took for a request that was then not enqueued. Best effort. */
  async release(counters: readonly Counter[], member: string): Promise<void> {
    if (counters.length === 0) return;
    const multi = this.redis.multi();
    for (const counter of counters) {
      if (counter.kind === "window") multi.zrem(counter.key, member);
      else multi.decrby(counter.key, counter.amount);
    }
    await multi.exec();
  }
}
