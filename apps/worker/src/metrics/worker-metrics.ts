import { countSmsSegments, type DeliveryErrorClass, METRIC_NAMES } from "@otpin/core";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { BreakerState, DeliveryObserver } from "../delivery/index.js";
import type { ProcessorObserver } from "../delivery-processor.js";
import { channelLabel, errorClassLabel, NO_ERROR_CLASS, providerLabel } from "./labels.js";

/** Value of `otp_circuit_state` per breaker state. */
export const CIRCUIT_STATE_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, half_open: 1, open: 2 };

/** Source of breaker states that the circuit-state gauge reads at scrape time, such as `ProviderBreakers`. */
export interface BreakerStateSource {
  names(): string[];
  state(provider: string): BreakerState;
}

const JOB_STATUSES = ["sent", "failed", "expired"] as const;
const PROVIDER_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DELIVERY_SECONDS_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const DEFAULT_METRIC_PROBE = "process_cpu_user_seconds_total";

/**
 * The worker's Prometheus metrics, fed by the delivery chain and processor hooks. Every label
 * comes from a fixed set (see labels.ts); the SMS body given to `smsAccepted` is only measured.
 */
export class WorkerMetrics implements DeliveryObserver, ProcessorObserver {
  private readonly attempts: Counter<"provider" | "outcome" | "error_class">;
  private readonly providerSeconds: Histogram<"provider" | "outcome">;
  private readonly deliverySeconds: Histogram<"channel">;
  private readonly failovers: Counter<"from" | "to">;
  private readonly emailFallbacks: Counter<"outcome">;
  private readonly circuitState: Gauge<"provider">;
  private readonly circuitTransitions: Counter<"provider" | "to">;
  private readonly jobsCompleted: Counter<"status">;
  private readonly segments: Counter<"provider" | "encoding">;
  private readonly duplicates: Counter;
  private readonly retries: Counter<"provider" | "error_class">;
  private breakers: BreakerStateSource | undefined;

  /** Registers the metrics in `registry`, plus the default Node.js metrics unless it has them already. */
  constructor(readonly registry: Registry = new Registry()) {
    if (registry.getSingleMetric(DEFAULT_METRIC_PROBE) === undefined) collectDefaultMetrics({ register: registry });
    const registers = [registry];

    this.attempts = new Counter({
      name: METRIC_NAMES.deliveryAttempts,
      help: "Provider calls made by the worker, by provider, outcome and error class (none when accepted).",
      labelNames: ["provider", "outcome", "error_class"],
      registers,
    });
    this.providerSeconds = new Histogram({
      name: METRIC_NAMES.providerRequestDuration,
      help: "Latency of one provider call, in seconds.",
      labelNames: ["provider", "outcome"],
      buckets: PROVIDER_SECONDS_BUCKETS,
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: METRIC_NAMES.deliveryDuration,
      help: "Time from API acceptance to provider acceptance, in seconds, by channel.",
      labelNames: ["channel"],
      buckets: DELIVERY_SECONDS_BUCKETS,
      registers,
    });

    this.failovers = counter(registry, METRIC_NAMES.failovers, "Moves from one SMS provider to the next.", ["from", "to"]);
    this.emailFallbacks = counter(registry, METRIC_NAMES.emailFallbacks, "Email fallbacks sent, by outcome.", ["outcome"]);

    this.circuitState = new Gauge({
      name: METRIC_NAMES.circuitState,
      help: "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
      labelNames: ["provider"],
      registers,
      collect: () => this.readBreakers(),
    });
    this.circuitTransitions = counter(
      registry,
      METRIC_NAMES.circuitTransitions,
      "Circuit breaker state changes, by provider and new state.",
      ["provider", "to"],
    );

    this.jobsCompleted = counter(registry, METRIC_NAMES.jobsCompleted, "Delivery jobs finished, by final status.", ["status"]);
    this.segments = counter(registry, METRIC_NAMES.smsSegments, "SMS segments accepted by providers.", ["provider", "encoding"]);
    this.duplicates = new Counter({
      name: METRIC_NAMES.duplicatesSuppressed,
      help: "Redelivered jobs completed without sending, because a provider had already accepted the code.",
      registers,
    });
    this.retries = counter(
      registry,
      METRIC_NAMES.providerRetries,
      "Sends repeated through the same provider, by provider and error class.",
      ["provider", "error_class"],
    );

    for (const status of JOB_STATUSES) this.jobsCompleted.inc({ status }, 0);
    for (const outcome of ["accepted", "failed"]) this.emailFallbacks.inc({ outcome }, 0);
  }

  /**
   * Reports the state of these breakers in `otp_circuit_state` at every scrape, and starts each
   * provider's zero series, so ratios and failover panels have data before the first event.
   */
  trackBreakers(breakers: BreakerStateSource): void {
    this.breakers = breakers;
    const names = breakers.names().map(providerLabel);
    for (const provider of names) {
      this.attempts.inc({ provider, outcome: "accepted", error_class: NO_ERROR_CLASS }, 0);
      this.retries.inc({ provider, error_class: "throttled" }, 0);
      for (const to of names) if (to !== provider) this.failovers.inc({ from: provider, to }, 0);
    }
    this.readBreakers();
  }

  attempt(provider: string, outcome: "accepted" | "failed", errorClass: DeliveryErrorClass | undefined, seconds: number): void {
    const label = providerLabel(provider);
    this.attempts.inc({ provider: label, outcome, error_class: errorClassLabel(errorClass) });
    this.providerSeconds.observe({ provider: label, outcome }, seconds);
  }

  failover(from: string, to: string): void {
    this.failovers.inc({ from: providerLabel(from), to: providerLabel(to) });
  }

  providerRetry(provider: string, errorClass: DeliveryErrorClass): void {
    this.retries.inc({ provider: providerLabel(provider), error_class: errorClassLabel(errorClass) });
  }

  breakerTransition(provider: string, to: BreakerState): void {
    const label = providerLabel(provider);
    this.circuitTransitions.inc({ provider: label, to });
    this.circuitState.set({ provider: label }, CIRCUIT_STATE_VALUES[to]);
  }

  emailFallback(outcome: "accepted" | "failed"): void {
    this.emailFallbacks.inc({ outcome });
  }

  smsAccepted(provider: string, body: string): void {
    const { encoding, segments } = countSmsSegments(body);
    this.segments.inc({ provider: providerLabel(provider), encoding: encoding === "GSM-7" ? "gsm7" : "ucs2" }, segments);
  }

  jobCompleted(status: "sent" | "failed" | "expired"): void {
    this.jobsCompleted.inc({ status });
  }

  duplicateSuppressed(): void {
    this.duplicates.inc();
  }

  delivered(channel: string, secondsSinceAccepted: number): void {
    this.deliverySeconds.observe({ channel: channelLabel(channel) }, Math.max(0, secondsSinceAccepted));
  }

  private readBreakers(): void {
    const breakers = this.breakers;
    if (breakers === undefined) return;
    for (const provider of breakers.names()) {
      this.circuitState.set({ provider: providerLabel(provider) }, CIRCUIT_STATE_VALUES[breakers.state(provider)]);
    }
  }
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}
