import { countSmsSegments, renderSms } from "@otpin/core";
import type { Counter } from "./rate-limiter.js";

/** Amounts are counted in millionths of the currency unit, so Redis adds integers. */
const MICROS = 1_000_000;
const HOUR_MS = 3_600_000;

export interface SpendSettings {
  /** Estimated price of one SMS segment per country; `*` for every other country. */
  SMS_PRICE_PER_SEGMENT: Readonly<Record<string, number>>;
  /** Budget per country per clock hour; `*` for every other country. A country with no entry has no budget. */
  SPEND_BUDGET_PER_HOUR: Readonly<Record<string, number>>;
  APP_NAME: string;
  OTP_LENGTH: number;
  OTP_TTL_SECONDS: number;
}

/**
 * Estimates what each send costs and builds the counter that holds a country to its hourly
 * budget. The estimate is taken when the request is admitted: segments of the rendered message
 * times the country's price. Re-sends by failover or retries are not counted again.
 */
export class SpendGuard {
  private readonly segments: number;

  constructor(private readonly settings: SpendSettings) {
    // Every code has the same length and the template is fixed, so one sample gives the segment count.
    const sample = renderSms({
      code: "0".repeat(settings.OTP_LENGTH),
      appName: settings.APP_NAME,
      ttlSeconds: settings.OTP_TTL_SECONDS,
    });
    this.segments = countSmsSegments(sample).segments;
  }

  /** Estimated cost of one send to `country`, in millionths of the currency unit. */
  costMicros(country: string | null): number {
    const price = lookup(this.settings.SMS_PRICE_PER_SEGMENT, country) ?? 0;
    return Math.round(price * this.segments * MICROS);
  }

  /** The budget counter for a send at `now`, or undefined when the country has no budget. */
  counter(prefix: string, country: string | null, now: number): Counter | undefined {
    const budget = lookup(this.settings.SPEND_BUDGET_PER_HOUR, country);
    if (budget === undefined) return undefined;
    const bucket = Math.floor(now / HOUR_MS);
    return {
      limit: "spend_budget",
      kind: "budget",
      key: `${prefix}:limit:spend:${country ?? "unknown"}:${bucket}`,
      max: Math.round(budget * MICROS),
      windowMs: HOUR_MS,
      amount: this.costMicros(country),
    };
  }
}

function lookup(table: Readonly<Record<string, number>>, country: string | null): number | undefined {
  return (country === null ? undefined : table[country]) ?? table["*"];
}
