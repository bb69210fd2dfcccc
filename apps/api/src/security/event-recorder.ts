import type { BlockReason, SecurityEvents } from "./security-events.js";

/** SecurityEvents that record every call, for tests. */
export class EventRecorder implements SecurityEvents {
  readonly blockedReasons: BlockReason[] = [];
  readonly budgetCountries: string[] = [];

  blocked(reason: BlockReason): void {
    this.blockedReasons.push(reason);
  }

  spendBudgetExceeded(country: string): void {
    this.budgetCountries.push(country);
  }

  /** How many times each reason was reported. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const reason of this.blockedReasons) counts[reason] = (counts[reason] ?? 0) + 1;
    return counts;
  }
}
