import { CountryBlockedError } from "@otpin/core";
import type { SecurityEvents } from "./security-events.js";

export interface GeographyPolicy {
  ALLOWED_COUNTRIES?: readonly string[] | undefined;
  BLOCKED_COUNTRIES?: readonly string[] | undefined;
  /** `enforce` refuses; `monitor` only reports what it would refuse. */
  GEO_MODE: "enforce" | "monitor";
}

/** Returns why a country is refused by the lists, or undefined when it is allowed. Unknown countries fail an allow-list. */
export function countryRefusal(policy: GeographyPolicy, country: string | null): string | undefined {
  const { ALLOWED_COUNTRIES: allowed, BLOCKED_COUNTRIES: blocked } = policy;
  if (allowed !== undefined && (country === null || !allowed.includes(country))) {
    // A country on both lists is blocked, so the hint names only the countries that really pass.
    const served = allowed.filter((code) => !blocked?.includes(code));
    const hint = served.length > 0 ? `; it sends to ${served.join(", ")}` : "";
    return `to is a number in ${country ?? "an unknown country"}, which this service does not send to${hint}`;
  }
  if (blocked !== undefined && country !== null && blocked.includes(country)) {
    return `to is a number in ${country}, which this service does not send to`;
  }
  return undefined;
}

/**
 * Applies ALLOWED_COUNTRIES and BLOCKED_COUNTRIES before anything is stored or enqueued. In monitor
 * mode a refusal is only reported (`country_monitor`) and the request goes on.
 *
 * @throws CountryBlockedError (403, field `to`) in enforce mode.
 */
export function enforceGeography(policy: GeographyPolicy, country: string | null, events: SecurityEvents): void {
  const refusal = countryRefusal(policy, country);
  if (refusal === undefined) return;
  if (policy.GEO_MODE === "monitor") {
    events.blocked("country_monitor");
    return;
  }
  events.blocked("country_blocked");
  throw new CountryBlockedError(refusal, { field: "to" });
}
