import { createHmac } from "node:crypto";
import { IdempotencyConflictError, IdempotencyInProgressError, ValidationError } from "@otpin/core";
import type { Redis } from "ioredis";
import { waitForConnection, withRedisDeadline } from "../redis-guard.js";
import { lookupHash } from "./lookup-hash.js";
import type { SecurityEvents } from "./security-events.js";

/** How long a completed answer is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * Shortest time a claim lasts while its request runs; a crashed request frees its key after it.
 * The claim also outlasts the slowest create, which takes up to three Redis deadlines.
 */
const MIN_PENDING_TTL_MS = 30_000;
const POLL_INTERVAL_MS = 20;

const KEY_PATTERN = /^[\x20-\x7E]{1,255}$/;

/** Result of running a request under an idempotency key. */
export interface IdempotentResult<T> {
  value: T;
  /** True when `value` is the stored answer of an earlier request with the same key. */
  replayed: boolean;
}

// Claims the key for a new request, or reports what an earlier request with it left behind.
// ARGV: body hash, pending TTL. Returns {'claimed'}, {'conflict'}, {'pending'} or {'replay', answer}.
const CLAIM_SCRIPT = `
local fields = redis.call('HMGET', KEYS[1], 'bodyHash', 'state', 'answer')
if not fields[1] then
  redis.call('HSET', KEYS[1], 'bodyHash', ARGV[1], 'state', 'pending')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'claimed'}
end
if fields[1] ~= ARGV[1] then return {'conflict'} end
if fields[2] == 'done' then return {'replay', fields[3]} end
return {'pending'}
`;

/**
 * Reads the `Idempotency-Key` header: undefined when absent.
 *
 * @throws ValidationError when present but not 1-255 printable ASCII characters.
 */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== "string" || !KEY_PATTERN.test(header)) {
    throw new ValidationError("Idempotency-Key must be 1-255 printable ASCII characters, sent once", {
      field: "Idempotency-Key",
    });
  }
  return header;
}

/**
 * Replays the first answer to a request repeated with the same `Idempotency-Key` by the same API
 * key within 24 h. Redis holds a keyed hash of the key and of the body, and the answer (which
 * holds no number or code), never the body. Only a success is stored: after an error the key is
 * free again, so the caller can retry it once the cause is gone.
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly lookupKey: Buffer,
    private readonly events: SecurityEvents,
    /** How long a request waits for a concurrent one with the same key before giving up. */
    private readonly waitMs: number,
    /** Deadline of each Redis step (REDIS_COMMAND_TIMEOUT_MS). */
    private readonly timeoutMs: number,
  ) {}

  private claim(redisKey: string, bodyHash: string): Promise<[string, string?]> {
    return withRedisDeadline(this.timeoutMs, "checking the Idempotency-Key", async (signal) => {
      await waitForConnection(this.redis, signal);
      const pendingTtlMs = Math.max(MIN_PENDING_TTL_MS, 4 * this.timeoutMs);
      return (await this.redis.eval(CLAIM_SCRIPT, 1, redisKey, bodyHash, String(pendingTtlMs))) as [string, string?];
    });
  }

  /**
   * Runs `operation` once per (scope, key). A concurrent duplicate waits for the first to finish
   * and replays its answer.
   *
   * @throws IdempotencyConflictError when the key was used with a different body;
   *   IdempotencyInProgressError when the first request is still running after `waitMs`.
   */
  async run<T>(scope: string, key: string | undefined, body: unknown, operation: () => Promise<T>): Promise<IdempotentResult<T>> {
    if (key === undefined) return { value: await operation(), replayed: false };
    const redisKey = `${this.prefix}:idem:${lookupHash(this.lookupKey, "idempotency", `${scope}\n${key}`)}`;
    const bodyHash = createHmac("sha256", this.lookupKey).update(stableJson(body)).digest("hex");
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const [state, answer] = await this.claim(redisKey, bodyHash);
      if (state === "replay" && answer !== undefined) return { value: JSON.parse(answer) as T, replayed: true };
      if (state === "claimed") return { value: await this.runClaimed(redisKey, operation), replayed: false };
      if (state === "conflict") {
        this.events.blocked("idempotency_conflict");
        throw new IdempotencyConflictError(
          "Idempotency-Key was already used with a different body; use a new key for a different request",
          { field: "Idempotency-Key" },
        );
      }
      if (Date.now() >= deadline) {
        throw new IdempotencyInProgressError("a request with this Idempotency-Key is still running; retry in a second");
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }

  private async runClaimed<T>(redisKey: string, operation: () => Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await operation();
    } catch (error) {
      await this.redis.del(redisKey).catch(() => undefined);
      throw error;
    }
    await this.redis
      .multi()
      .hset(redisKey, "state", "done", "answer", JSON.stringify(value))
      .pexpire(redisKey, IDEMPOTENCY_TTL_MS)
      .exec();
    return value;
  }
}

/** JSON with object keys sorted, so the same body hashes the same whatever its key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${stableJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
