// In-test stand-ins for the delivery chain's unit tests. The chain and the breakers are pure
// policy over the SmsProvider and EmailChannel interfaces, so scripted fakes can produce every
// error class on demand. delivery-chain.integration.test.ts runs the real adapters.
import { Writable } from "node:stream";
import {
  type Channel,
  createLogger,
  type DeliveryAttempt,
  DeliveryError,
  type DeliveryErrorClass,
  type Logger,
  type SmsProviderName,
} from "@otpin/core";
import type { EmailChannel, EmailMessage, SendResult, SmsMessage, SmsProvider } from "@otpin/providers";
import type { DeliveryLedger } from "./delivery-chain.js";
import type { BreakerState, DeliveryObserver } from "./delivery-observer.js";

/** Scripted response of a fake provider to one call. */
export type FakeResponse = { accept: true } | { fail: DeliveryErrorClass; code?: string } | { throw: unknown } | { hang: true };

/** An SmsProvider that responds from a script. The last entry repeats once the script runs out. */
export class FakeSmsProvider implements SmsProvider {
  readonly calls: SmsMessage[] = [];
  private readonly hanging: (() => void)[] = [];
  private scriptCalls = 0;

  constructor(
    readonly name: SmsProviderName,
    private script: FakeResponse[] = [{ accept: true }],
  ) {}

  /** Replaces the script, so the next call gets its first entry. */
  answer(...script: FakeResponse[]): void {
    this.script = script;
    this.scriptCalls = 0;
  }

  async send(message: SmsMessage): Promise<SendResult> {
    this.calls.push(message);
    const response = this.script[Math.min(this.scriptCalls, this.script.length - 1)] ?? { accept: true };
    this.scriptCalls++;
    return respond(this.name, response, this.calls.length, (release) => this.hanging.push(release));
  }

  /** Settles every hanging call with an acceptance, so no promise outlives the test. */
  releaseHanging(): void {
    for (const release of this.hanging.splice(0)) release();
  }
}

/** An EmailChannel that responds from a one-entry script. */
export class FakeEmailChannel implements EmailChannel {
  readonly name = "email" as const;
  readonly calls: EmailMessage[] = [];

  constructor(private readonly response: FakeResponse = { accept: true }) {}

  async send(message: EmailMessage): Promise<SendResult> {
    this.calls.push(message);
    return respond("email", this.response, this.calls.length, () => undefined);
  }

  async close(): Promise<void> {}
}

function respond(
  provider: string,
  response: FakeResponse,
  call: number,
  onHang: (release: () => void) => void,
): Promise<SendResult> {
  if ("accept" in response) return Promise.resolve({ provider, messageId: `${provider}-msg-${call}` });
  if ("throw" in response) return Promise.reject(response.throw);
  if ("hang" in response) {
    return new Promise((resolve) => onHang(() => resolve({ provider, messageId: `${provider}-late-${call}` })));
  }
  return Promise.reject(
    new DeliveryError(response.fail, `${provider} failed with ${response.fail}`, { provider, providerCode: response.code }),
  );
}

/** A ledger in memory that keeps every call in order. */
export class MemoryLedger implements DeliveryLedger {
  readonly attempts: DeliveryAttempt[] = [];
  readonly acceptances: { provider: string; channel: Channel }[] = [];

  async appendAttempt(attempt: DeliveryAttempt): Promise<void> {
    this.attempts.push(attempt);
  }

  async recordAcceptance(provider: string, channel: Channel): Promise<boolean> {
    this.acceptances.push({ provider, channel });
    return this.acceptances.length === 1;
  }
}

/** An observer that stores every hook call as a tuple, in order. */
export class RecordingObserver implements DeliveryObserver {
  readonly attempts: [string, "accepted" | "failed", DeliveryErrorClass | undefined][] = [];
  readonly failovers: [string, string][] = [];
  readonly retries: [string, DeliveryErrorClass][] = [];
  readonly transitions: [string, BreakerState][] = [];
  readonly emailFallbacks: ("accepted" | "failed")[] = [];

  attempt(provider: string, outcome: "accepted" | "failed", errorClass: DeliveryErrorClass | undefined): void {
    this.attempts.push([provider, outcome, errorClass]);
  }

  failover(from: string, to: string): void {
    this.failovers.push([from, to]);
  }

  providerRetry(provider: string, errorClass: DeliveryErrorClass): void {
    this.retries.push([provider, errorClass]);
  }

  breakerTransition(provider: string, to: BreakerState): void {
    this.transitions.push([provider, to]);
  }

  emailFallback(outcome: "accepted" | "failed"): void {
    this.emailFallbacks.push(outcome);
  }
}

/** Creates a real pino logger from core that keeps each JSON line, so tests can read what was logged. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      callback();
    },
  });
  const logger = createLogger("worker-test", "debug", destination);
  const text = () => chunks.join("");
  const lines = () =>
    text()
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, text };
}

/** Waits until `condition` holds, checking every 5 ms, for at most `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
