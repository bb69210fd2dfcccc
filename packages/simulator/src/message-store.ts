import { type MessageFilter, PROVIDER_NAMES, type ProviderName, type RecordedRequest, type SimulatedMessage } from "./types.js";

/** Default time `waitFor` waits for a matching message, in milliseconds. */
export const DEFAULT_WAIT_TIMEOUT_MS = 5_000;

/** `waitFor` found no matching message in time, or the simulator closed first. */
export class MessageWaitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MessageWaitError";
  }
}

interface Waiter {
  filter: MessageFilter;
  resolve: (message: SimulatedMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Accepted messages, per-provider request counters and pending `waitFor` calls. */
export class MessageStore {
  private messages: SimulatedMessage[] = [];
  private readonly counts = new Map<ProviderName, number>();
  private requestLog: RecordedRequest[] = [];
  private readonly waiters = new Set<Waiter>();

  /** Stores an accepted message and resolves the waiters it matches. */
  add(message: SimulatedMessage): void {
    this.messages.push(message);
    for (const waiter of [...this.waiters]) {
      if (!matches(message, waiter.filter)) continue;
      this.settle(waiter);
      waiter.resolve(message);
    }
  }

  /** Returns the matching messages, oldest first. */
  list(filter: MessageFilter = {}): SimulatedMessage[] {
    return this.messages.filter((message) => matches(message, filter)).map((message) => ({ ...message }));
  }

  clearMessages(): void {
    this.messages = [];
  }

  countRequest(provider: ProviderName): void {
    this.counts.set(provider, (this.counts.get(provider) ?? 0) + 1);
  }

  /** Keeps a readable request, accepted or not, so tests can see what every attempt carried. */
  recordRequest(request: RecordedRequest): void {
    this.requestLog.push(request);
  }

  /** Returns the recorded requests of one provider, or of all, oldest first. */
  requests(provider?: ProviderName): RecordedRequest[] {
    return this.requestLog
      .filter((request) => provider === undefined || request.provider === provider)
      .map((request) => ({ ...request }));
  }

  /** Returns the requests received by one provider, or by all providers when none is given. */
  requestCount(provider?: ProviderName): number {
    if (provider !== undefined) return this.counts.get(provider) ?? 0;
    return PROVIDER_NAMES.reduce((total, name) => total + (this.counts.get(name) ?? 0), 0);
  }

  clearCounts(): void {
    this.counts.clear();
    this.requestLog = [];
  }

  /**
   * Resolves with the first stored message that matches, or with the next one to arrive.
   *
   * @throws MessageWaitError after `timeoutMs` without a match, or when `rejectAll` runs first.
   */
  waitFor(filter: MessageFilter, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS): Promise<SimulatedMessage> {
    const found = this.messages.find((message) => matches(message, filter));
    if (found !== undefined) return Promise.resolve({ ...found });

    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        filter,
        resolve: (message) => resolve({ ...message }),
        reject,
        timer: setTimeout(() => {
          this.settle(waiter);
          reject(new MessageWaitError(`no message matching ${describeFilter(filter)} arrived within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Rejects every pending `waitFor` call, so none outlives a closed simulator. */
  rejectAll(reason: string): void {
    for (const waiter of [...this.waiters]) {
      this.settle(waiter);
      waiter.reject(new MessageWaitError(reason));
    }
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
  }
}

/** Adds the leading `+` that callers sometimes leave out of a filter's number. */
function normalizeTo(to: string): string {
  return to.startsWith("+") ? to : `+${to}`;
}

function matches(message: SimulatedMessage, filter: MessageFilter): boolean {
  if (filter.provider !== undefined && message.provider !== filter.provider) return false;
  if (filter.to !== undefined && message.to !== normalizeTo(filter.to)) return false;
  return true;
}

// The filter contains a test recipient, never a real customer's number, so it may appear in the error.
function describeFilter(filter: MessageFilter): string {
  return JSON.stringify(filter);
}
