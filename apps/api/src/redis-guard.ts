import { isOtpError, UnavailableError } from "@otpin/core";
import type { Redis } from "ioredis";

// ioredis and BullMQ raise plain Errors for connection trouble, so the message is the only signal.
const UNAVAILABLE_MESSAGE =
  /Command timed out|Connection is closed|Stream isn't writeable|enableOfflineQueue|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|^LOADING|^READONLY|^MASTERDOWN|^CLUSTERDOWN|^TRYAGAIN|^OOM/;

const UNAVAILABLE_NAMES = new Set(["MaxRetriesPerRequestError", "ConnectionClosedError"]);

/** Tells whether an error means Redis could not be reached or refused work, as opposed to a bug. */
export function isRedisUnavailableError(error: unknown): boolean {
  if (error instanceof UnavailableError) return true;
  if (!(error instanceof Error)) return false;
  return UNAVAILABLE_NAMES.has(error.name) || UNAVAILABLE_MESSAGE.test(error.message);
}

/**
 * Runs a Redis operation with a deadline. The operation receives a signal that aborts when the
 * deadline passes, so it can skip later steps (such as enqueueing) after the caller has given up.
 *
 * @throws UnavailableError when the deadline passes or Redis reports a connection problem;
 *   OtpErrors and other errors pass through unchanged.
 */
export async function withRedisDeadline<T>(
  timeoutMs: number,
  operationName: string,
  operation: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new UnavailableError(`${operationName} timed out after ${timeoutMs} ms waiting for Redis; retry later`));
    }, timeoutMs);
  });

  const running = operation(controller.signal);
  // The operation may still reject after the deadline won. The caller's cleanup handles that case, so the rejection is dropped here.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, deadline]);
  } catch (error) {
    throw toUnavailable(error, operationName);
  } finally {
    clearTimeout(timer);
  }
}

/** Throws UnavailableError when the deadline of `signal` has passed. */
export function throwIfAborted(signal: AbortSignal, operationName: string): void {
  if (signal.aborted) throw new UnavailableError(`${operationName} was abandoned after its deadline; retry later`);
}

function toUnavailable(error: unknown, operationName: string): unknown {
  if (isOtpError(error)) return error;
  if (isRedisUnavailableError(error)) {
    return new UnavailableError(`${operationName} failed because Redis is unavailable; retry later`, { cause: error });
  }
  return error;
}

/**
 * Waits until the connection is ready or `signal` aborts. Without the offline queue, ioredis
 * rejects commands sent while it connects, so the first requests after start-up or a reconnect
 * wait here instead of failing.
 *
 * @throws UnavailableError when the connection was closed for good or the signal aborted.
 */
export async function waitForConnection(redis: Redis, signal: AbortSignal): Promise<void> {
  if (redis.status === "ready") return;
  if (redis.status === "end") throw new UnavailableError("Redis connection is closed; retry later");
  await new Promise<void>((resolve, reject) => {
    const finish = (error?: Error) => {
      redis.off("ready", onReady);
      redis.off("end", onEnd);
      signal.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = () => finish();
    const onEnd = () => finish(new UnavailableError("Redis connection is closed; retry later"));
    const onAbort = () => finish(new UnavailableError("Redis did not connect before the deadline; retry later"));
    redis.on("ready", onReady);
    redis.on("end", onEnd);
    signal.addEventListener("abort", onAbort);
  });
}
