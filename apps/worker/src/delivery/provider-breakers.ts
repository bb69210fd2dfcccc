import { EventEmitter } from "node:events";
import { DeliveryError, type Logger } from "@otpin/core";
import type { SendResult, SmsMessage, SmsProvider } from "@otpin/providers";
import CircuitBreaker from "opossum";
import { BreakerOpenError } from "./breaker-open-error.js";
import type { BreakerSettings } from "./breaker-settings.js";
import { type BreakerState, type DeliveryObserver, guardObserver } from "./delivery-observer.js";
import { toDeliveryError } from "./to-delivery-error.js";

/** Number of buckets the rolling window is split into; opossum's default. */
const ROLLING_COUNT_BUCKETS = 10;

/** opossum emits this event name on its `rotateBucketController` to rotate the window by one bucket. */
const ROTATE_EVENT = "rotate";

interface ProviderBreaker {
  breaker: CircuitBreaker<[SmsMessage], SendResult>;
  /** Rotates the rolling window; the breaker owns no interval because it has a rotateBucketController. */
  rotateTimer: NodeJS.Timeout;
}

/**
 * Whether opossum should ignore an error. Recipient errors and `not_permitted` tell nothing about
 * the provider's health, so they count as successes, both in the stats and for a half-open trial.
 */
function isIgnoredByBreaker(error: unknown): boolean {
  return error instanceof DeliveryError && !error.countsAgainstBreaker;
}

function errorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

/**
 * One opossum circuit breaker per SMS provider, for the life of the worker process. Each breaker
 * opens when more than `errorThresholdPercentage` of at least `volumeThreshold` sends in the
 * rolling window failed. After `resetTimeoutMs` it lets one trial send through (half-open), which
 * closes it on success and opens it again on failure.
 */
export class ProviderBreakers {
  private readonly breakers = new Map<string, ProviderBreaker>();
  private readonly observer: Required<DeliveryObserver>;

  constructor(
    providers: ReadonlyMap<string, SmsProvider>,
    private readonly settings: BreakerSettings,
    private readonly logger: Logger,
    observer?: DeliveryObserver,
  ) {
    this.observer = guardObserver(observer, logger);
    for (const [name, provider] of providers) this.breakers.set(name, this.createBreaker(name, provider));
  }

  /** Names of the providers that have a breaker. */
  names(): string[] {
    return [...this.breakers.keys()];
  }

  has(provider: string): boolean {
    return this.breakers.has(provider);
  }

  /**
   * Sends through the provider's breaker.
   *
   * @throws BreakerOpenError when the breaker is open, or half-open with its trial already in
   *   flight. Throws a `DeliveryError` for every other failure: the provider's own, opossum's
   *   timeout as class `timeout`, and any unclassified error as class `unknown`.
   */
  async send(provider: string, message: SmsMessage): Promise<SendResult> {
    const { breaker } = this.get(provider);
    try {
      return await breaker.fire(message);
    } catch (error) {
      this.closeAfterIgnoredTrial(provider, breaker, error);
      throw this.classify(provider, error);
    }
  }

  state(provider: string): BreakerState {
    const { breaker } = this.get(provider);
    if (breaker.closed) return "closed";
    if (breaker.halfOpen) return "half_open";
    return "open";
  }

  /** opossum's counters over the rolling window, for metrics and tests. */
  stats(provider: string): CircuitBreaker.Stats {
    return this.get(provider).breaker.stats;
  }

  /** Stops every breaker's timers; later sends reject with `BreakerOpenError` (`ESHUTDOWN`). */
  shutdown(): void {
    for (const { breaker, rotateTimer } of this.breakers.values()) {
      clearInterval(rotateTimer);
      breaker.shutdown();
    }
  }

  private get(provider: string): ProviderBreaker {
    const entry = this.breakers.get(provider);
    if (entry === undefined) {
      throw new RangeError(`no circuit breaker for provider "${provider}"; configured providers: ${this.names().join(", ")}`);
    }
    return entry;
  }

  private createBreaker(name: string, provider: SmsProvider): ProviderBreaker {
    const rotator = new EventEmitter();
    const breaker = new CircuitBreaker((message: SmsMessage) => provider.send(message), {
      name,
      timeout: this.settings.timeoutMs,
      errorThresholdPercentage: this.settings.errorThresholdPercentage,
      volumeThreshold: this.settings.volumeThreshold,
      resetTimeout: this.settings.resetTimeoutMs,
      rollingCountTimeout: this.settings.rollingCountTimeoutMs,
      rollingCountBuckets: ROLLING_COUNT_BUCKETS,
      rotateBucketController: rotator,
      // Without warm-up, failures can open the breaker as soon as volumeThreshold is reached.
      allowWarmUp: false,
      enableSnapshots: false,
      errorFilter: isIgnoredByBreaker,
    });
    const bucketMs = Math.max(1, Math.floor(this.settings.rollingCountTimeoutMs / ROLLING_COUNT_BUCKETS));
    const rotateTimer = setInterval(() => rotator.emit(ROTATE_EVENT), bucketMs);
    rotateTimer.unref();

    breaker.on("open", () => this.onTransition(name, "open"));
    breaker.on("halfOpen", () => this.onTransition(name, "half_open"));
    breaker.on("close", () => {
      // opossum 9.0.0 keeps the rolling window when it closes, so one failure right after a
      // successful trial would reopen the breaker on the outage's old failures. Empty it.
      for (let bucket = 0; bucket < ROLLING_COUNT_BUCKETS; bucket++) rotator.emit(ROTATE_EVENT);
      this.onTransition(name, "closed");
    });
    return { breaker, rotateTimer };
  }

  private onTransition(provider: string, state: BreakerState): void {
    const fields = { provider, state, breaker: this.settings };
    if (state === "closed") this.logger.info(fields, "provider breaker state changed");
    else this.logger.warn(fields, "provider breaker state changed");
    this.observer.breakerTransition(provider, state);
  }

  /**
   * A half-open trial that ends in an ignored error (for example an invalid number) proves that the
   * provider responds. opossum 9.0.0 counts it as a success and closes the breaker. A version that
   * did not would leave it half-open with its one trial spent, rejecting every send, because
   * opossum starts the reset timer only on `open`. Closing here keeps the breaker usable either way.
   */
  private closeAfterIgnoredTrial(provider: string, breaker: CircuitBreaker<[SmsMessage], SendResult>, error: unknown): void {
    if (!isIgnoredByBreaker(error) || !breaker.halfOpen || breaker.pendingClose) return;
    this.logger.debug({ provider }, "closing breaker after its half-open trial ended in an ignored error");
    breaker.close();
  }

  private classify(provider: string, error: unknown): DeliveryError {
    if (error instanceof DeliveryError) return error;
    const code = errorCode(error);
    if (code === "EOPENBREAKER" || code === "ESHUTDOWN") return new BreakerOpenError(provider, code, { cause: error });
    if (code === "ETIMEDOUT") {
      return new DeliveryError(
        "timeout",
        `${provider} timed out after the circuit breaker timeout of ${this.settings.timeoutMs}ms`,
        {
          provider,
          providerCode: "ETIMEDOUT",
          cause: error,
        },
      );
    }
    return toDeliveryError(provider, error);
  }
}
