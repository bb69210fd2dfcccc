import type { WorkerConfig } from "@otpin/core";

/** Circuit breaker settings shared by every provider's breaker, in opossum's terms. */
export interface BreakerSettings {
  /** Milliseconds after which the breaker gives up on a send and counts a timeout. */
  timeoutMs: number;
  /** Failure percentage within the rolling window above which the breaker opens. */
  errorThresholdPercentage: number;
  /** Minimum number of sends within the rolling window before the breaker may open. */
  volumeThreshold: number;
  /** Milliseconds an open breaker waits before letting one trial send through (half-open). */
  resetTimeoutMs: number;
  /** Length in milliseconds of the rolling window that failure rates are computed over. */
  rollingCountTimeoutMs: number;
}

type BreakerConfig = Pick<
  WorkerConfig,
  | "BREAKER_TIMEOUT_MS"
  | "BREAKER_ERROR_THRESHOLD_PERCENT"
  | "BREAKER_VOLUME_THRESHOLD"
  | "BREAKER_RESET_TIMEOUT_MS"
  | "BREAKER_ROLLING_WINDOW_MS"
>;

/** Maps the worker's `BREAKER_*` variables onto breaker settings. */
export function breakerSettingsFromConfig(config: BreakerConfig): BreakerSettings {
  return {
    timeoutMs: config.BREAKER_TIMEOUT_MS,
    errorThresholdPercentage: config.BREAKER_ERROR_THRESHOLD_PERCENT,
    volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
    resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
    rollingCountTimeoutMs: config.BREAKER_ROLLING_WINDOW_MS,
  };
}
