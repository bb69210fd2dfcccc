/**
 * The one re-send a delivery receipt may trigger. The API adds it to the original job data, as
 * `redelivery`, in a follow-up job with id `${otpId}-redeliver`.
 */
export interface Redelivery {
  /** Providers not to try again: the one whose receipt reported the failure. */
  exclude: string[];
  /** Sends only the email fallback, for a handset error. */
  emailOnly: boolean;
}

/** Reads `redelivery` from raw job data; undefined for an ordinary delivery job or a malformed field. */
export function readRedelivery(data: unknown): Redelivery | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const value = (data as { redelivery?: unknown }).redelivery;
  if (typeof value !== "object" || value === null) return undefined;
  const { exclude, emailOnly } = value as { exclude?: unknown; emailOnly?: unknown };
  if (!Array.isArray(exclude) || !exclude.every((name) => typeof name === "string")) return undefined;
  if (typeof emailOnly !== "boolean") return undefined;
  return { exclude, emailOnly };
}

/** Job id of the one follow-up delivery after a receipt; the API's `redeliveryJobId` builds the same. */
export function redeliveryJobId(otpId: string): string {
  return `${otpId}-redeliver`;
}

/** A receipt that reached the store before the submission was recorded, as `recordSubmission` applied it. */
export interface HeldReceiptOutcome {
  state: string;
  policy: string | undefined;
  result: string;
}

/**
 * Returns the re-send that the API would have enqueued had these receipts found the message id: after an
 * `undelivered` receipt that changed the state (or repeated it) with a `route` or `handset` policy.
 * Undefined when no such receipt is among them.
 */
export function redeliveryForHeldReceipts(provider: string, receipts: readonly HeldReceiptOutcome[]): Redelivery | undefined {
  const due = receipts.find(
    (receipt) =>
      receipt.state === "undelivered" &&
      (receipt.result === "applied" || receipt.result === "duplicate") &&
      (receipt.policy === "route" || receipt.policy === "handset"),
  );
  return due === undefined ? undefined : { exclude: [provider], emailOnly: due.policy === "handset" };
}
