import { Redis, type RedisOptions } from "ioredis";

/**
 * Connection for request handlers: a command fails fast instead of waiting for Redis to return,
 * so a Redis outage becomes a 503 in about `commandTimeoutMs` rather than a hung request or a
 * stale job enqueued after the user left.
 */
export function createProducerConnection(url: string, commandTimeoutMs: number, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: commandTimeoutMs,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    // A command sent before a disconnect is not replayed later: its caller already got a 503.
    autoResendUnfulfilledCommands: false,
    lazyConnect: false,
    ...options,
  });
}

/** Connection for BullMQ workers, which require `maxRetriesPerRequest: null` and wait out outages. */
export function createWorkerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}
