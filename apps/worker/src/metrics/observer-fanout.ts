import type { Logger } from "@otpin/core";
import type { DeliveryObserver } from "../delivery/index.js";
import type { ProcessorObserver } from "../delivery-processor.js";

/** Both hook interfaces, as the worker app passes one observer to the chain and the processor. */
export type WorkerObserver = DeliveryObserver & ProcessorObserver;

const HOOKS = [
  "attempt",
  "failover",
  "providerRetry",
  "breakerTransition",
  "emailFallback",
  "smsAccepted",
  "jobCompleted",
  "duplicateSuppressed",
  "delivered",
  "smsRendered",
] as const satisfies readonly (keyof WorkerObserver)[];

/**
 * Combines observers into one that calls each in turn. A hook that throws is logged and
 * skipped, because the processor calls its hooks unguarded and metrics must never fail a job.
 */
export function fanOutObservers(logger: Logger, ...observers: (WorkerObserver | undefined)[]): WorkerObserver {
  const present = observers.filter((observer): observer is WorkerObserver => observer !== undefined);
  const combined: Record<string, (...args: unknown[]) => void> = {};
  for (const hook of HOOKS) {
    combined[hook] = (...args: unknown[]) => {
      for (const observer of present) {
        const method = observer[hook] as ((...values: unknown[]) => void) | undefined;
        try {
          method?.apply(observer, args);
        } catch (err) {
          logger.warn({ err, hook }, "worker observer hook failed");
        }
      }
    };
  }
  return combined as WorkerObserver;
}
