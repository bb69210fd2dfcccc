/** The value `withDeadline` resolves with when the deadline passes before the request settles. */
export const DEADLINE_EXCEEDED: unique symbol = Symbol("deadline exceeded");

/**
 * Starts the deadline timer of `timeoutMs` milliseconds, then calls `start` and races the promise
 * it returns against the timer. Resolves or rejects as that promise does when it settles first, and
 * resolves with `DEADLINE_EXCEEDED` otherwise. A later rejection of the abandoned promise is handled
 * and dropped, so it never becomes an unhandled rejection. This function does not abort the request.
 *
 * The timer starts before `start` runs, so it fires before an SDK timer of the same duration that
 * `start` sets, because Node.js runs timers of equal duration in the order they were created.
 */
export async function withDeadline<T>(timeoutMs: number, start: () => Promise<T>): Promise<T | typeof DEADLINE_EXCEEDED> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof DEADLINE_EXCEEDED>((resolve) => {
    timer = setTimeout(() => resolve(DEADLINE_EXCEEDED), timeoutMs);
  });
  try {
    const request = start();
    request.catch(() => undefined);
    return await Promise.race([request, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
