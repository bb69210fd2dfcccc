import { PROVIDER_NAMES, type ProviderBehaviour, type ProviderName, type SimulatedFailure } from "./types.js";

/** Outcome that the simulator picks for one authenticated provider request. */
export type Verdict = { kind: "accept" } | { kind: "throttle" } | { kind: "fail"; failure: SimulatedFailure };

/**
 * Current behaviour of each simulated provider. The `failNext` and `throttleNext` counters count
 * down as requests consume them, so a snapshot shows how many remain.
 */
export class BehaviourBook {
  private readonly behaviours = new Map<ProviderName, ProviderBehaviour>();

  /** @param random returns a number in [0, 1), which decides whether `errorRate` applies to a request. */
  constructor(private readonly random: () => number) {}

  /** Replaces the behaviour of one provider. */
  set(provider: ProviderName, behaviour: ProviderBehaviour): void {
    this.behaviours.set(provider, copyBehaviour(behaviour));
  }

  /** Returns a copy of one provider's behaviour; `{}` means normal. */
  get(provider: ProviderName): ProviderBehaviour {
    const behaviour = this.behaviours.get(provider);
    return behaviour === undefined ? {} : copyBehaviour(behaviour);
  }

  /** Returns a copy of every provider's behaviour. */
  snapshot(): Record<ProviderName, ProviderBehaviour> {
    const entries = PROVIDER_NAMES.map((provider) => [provider, this.get(provider)] as const);
    return Object.fromEntries(entries) as Record<ProviderName, ProviderBehaviour>;
  }

  /** Makes every provider normal again. */
  clear(): void {
    this.behaviours.clear();
  }

  /**
   * Picks the outcome of one authenticated request and consumes the counters it uses.
   * Throttling comes first, and a throttled request does not count towards `failNext`.
   * Each of the next `failNext` requests fails with probability `errorRate`.
   */
  nextVerdict(provider: ProviderName): Verdict {
    const behaviour = this.behaviours.get(provider);
    if (behaviour === undefined) return { kind: "accept" };

    if ((behaviour.throttleNext ?? 0) > 0) {
      behaviour.throttleNext = (behaviour.throttleNext ?? 0) - 1;
      return { kind: "throttle" };
    }

    const failure = behaviour.failure;
    if (failure === undefined) return { kind: "accept" };
    if (behaviour.failNext !== undefined) {
      if (behaviour.failNext <= 0) return { kind: "accept" };
      behaviour.failNext -= 1;
    }

    const errorRate = behaviour.errorRate ?? 1;
    if (this.random() >= errorRate) return { kind: "accept" };
    return { kind: "fail", failure: { ...failure } };
  }
}

function copyBehaviour(behaviour: ProviderBehaviour): ProviderBehaviour {
  const copy: ProviderBehaviour = { ...behaviour };
  if (behaviour.failure !== undefined) copy.failure = { ...behaviour.failure };
  return copy;
}
