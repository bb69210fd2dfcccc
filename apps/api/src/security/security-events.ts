/**
 * Reasons a request is rejected (or, for `country_monitor`, would be rejected). A bounded set, so
 * a metric labelled by reason cannot grow without bound.
 */
export type BlockReason =
  | "unauthorized"
  | "recipient_cooldown"
  | "recipient_hourly"
  | "api_key"
  | "number_range"
  | "client_ip"
  | "spend_budget"
  | "country_blocked"
  | "country_monitor"
  | "idempotency_conflict";

/**
 * Hooks the API calls when it rejects a request for a security reason. The metrics layer wires
 * them to counters such as `otp_requests_blocked_total{reason}`; the API itself keeps no metrics.
 */
export interface SecurityEvents {
  /** Records a request rejected (or counted in monitor mode) for `reason`. */
  blocked(reason: BlockReason): void;
  /** Records a send rejected because `country` (ISO alpha-2, or `unknown`) ran past its hourly spend budget. */
  spendBudgetExceeded(country: string): void;
}

/** Default hooks: do nothing. */
export const NO_SECURITY_EVENTS: SecurityEvents = Object.freeze({
  blocked: () => undefined,
  spendBudgetExceeded: () => undefined,
});
