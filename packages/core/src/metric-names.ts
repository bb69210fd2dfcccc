/** Prometheus metric names shared by the API, the worker, the dashboard and the alert rules. */
export const METRIC_NAMES = {
  requests: "otp_requests_total",
  deliveryAttempts: "otp_delivery_attempts_total",
  providerRequestDuration: "otp_provider_request_duration_seconds",
  deliveryDuration: "otp_delivery_seconds",
  failovers: "otp_failovers_total",
  emailFallbacks: "otp_email_fallbacks_total",
  circuitState: "otp_circuit_state",
  circuitTransitions: "otp_circuit_transitions_total",
  jobsCompleted: "otp_jobs_completed_total",
  queueJobs: "otp_queue_jobs",
  queueOldestWaiting: "otp_queue_oldest_waiting_seconds",
  verifications: "otp_verifications_total",
  smsSegments: "otp_sms_segments_total",
  duplicatesSuppressed: "otp_duplicates_suppressed_total",
  providerRetries: "otp_provider_retries_total",
} as const;
