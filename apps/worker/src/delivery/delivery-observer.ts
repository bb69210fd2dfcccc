import type { DeliveryErrorClass, Logger } from "@otpin/core";

/** State of a provider's circuit breaker. */
export type BreakerState = "closed" | "half_open" | "open";

/**
 * Hooks the delivery chain calls as it works, for metrics. Every method is optional, and an
 * exception thrown by one is logged and swallowed so metrics can never break delivery.
 */
export interface DeliveryObserver {
  /** One provider call finished; `seconds` is its latency. */
  attempt?(provider: string, outcome: "accepted" | "failed", errorClass: DeliveryErrorClass | undefined, seconds: number): void;
  /** The chain moves on from one SMS provider to the next. */
  failover?(from: string, to: string): void;
  /** The chain sends through the same provider again, after a `throttled` error. */
  providerRetry?(provider: string, errorClass: DeliveryErrorClass): void;
  /** A provider's breaker changed state. */
  breakerTransition?(provider: string, to: BreakerState): void;
  /** The email fallback was sent, with its result. */
  emailFallback?(outcome: "accepted" | "failed"): void;
  /** An SMS provider accepted `body`, for counting segments per provider. `body` contains the code: never log or label it. */
  smsAccepted?(provider: string, body: string): void;
}

/**
 * Wraps an optional observer into one whose methods all exist and never throw. A failing hook
 * is logged at warn level with the hook's name.
 */
export function guardObserver(observer: DeliveryObserver | undefined, logger: Logger): Required<DeliveryObserver> {
  const call =
    <K extends keyof DeliveryObserver>(hook: K) =>
    (...args: Parameters<Required<DeliveryObserver>[K]>): void => {
      const method = observer?.[hook] as ((...values: unknown[]) => void) | undefined;
      if (method === undefined) return;
      try {
        method.apply(observer, args);
      } catch (err) {
        logger.warn({ err, hook }, "delivery observer hook failed");
      }
    };
  return {
    attempt: call("attempt"),
    failover: call("failover"),
    providerRetry: call("providerRetry"),
    breakerTransition: call("breakerTransition"),
    emailFallback: call("emailFallback"),
    smsAccepted: call("smsAccepted"),
  };
}
