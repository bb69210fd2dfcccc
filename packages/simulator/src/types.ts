/** SMS providers whose HTTP APIs the simulator speaks. */
export type ProviderName = "twilio" | "plivo" | "vonage";

/** All simulated providers, in a fixed order for listings and counters. */
export const PROVIDER_NAMES: readonly ProviderName[] = ["twilio", "plivo", "vonage"];

/** Error response that a provider returns while a failure behaviour applies. */
export interface SimulatedFailure {
  /**
   * HTTP status. For Vonage, 200 means an HTTP 200 response whose per-message status is `code`,
   * the way the Vonage SMS API reports most errors.
   */
  status: number;
  /** Provider error code: Twilio `code`, Vonage per-message `status`. Plivo has no code field. */
  code?: string | number;
  /** Error text: Twilio `message`, Plivo `error`, Vonage `error-text`. */
  message?: string;
}

/** Scripted behaviour of one simulated provider. */
export interface ProviderBehaviour {
  /** Delay in milliseconds before the simulator responds. */
  latencyMs?: number;
  /** Error response to return instead of accepting the message. */
  failure?: SimulatedFailure;
  /** Probability from 0 to 1 that `failure` applies to a request; 1 when unset. */
  errorRate?: number;
  /** Number of next requests that `failure` may apply to; later requests are handled normally. */
  failNext?: number;
  /** Number of next requests that get the provider's throttling response. */
  throttleNext?: number;
  /**
   * Connection handling. `hang` reads the request and never responds. `reset` reads the request
   * and destroys the socket without a response.
   */
  mode?: "normal" | "hang" | "reset";
}

/** Message that a simulated provider accepted. */
export interface SimulatedMessage {
  /** Provider message id: Twilio `sid`, Plivo `message_uuid`, Vonage `message-id`. */
  id: string;
  provider: ProviderName;
  /** Recipient in E.164 with the leading `+`, whatever form the provider API takes. */
  to: string;
  from: string;
  body: string;
  /** ISO 8601 time when the simulator accepted the message. */
  receivedAt: string;
}

/** Filter for stored messages; unset fields match everything. */
export interface MessageFilter {
  /** Recipient in E.164; a missing leading `+` is added before comparing. */
  to?: string;
  provider?: ProviderName;
}

/** One API request as the simulator read it, whatever its outcome. */
export interface RecordedRequest {
  provider: ProviderName;
  /** Recipient field as sent (`To`, `dst` or `to`), or an empty string when missing. */
  to: string;
  /** Message text field as sent (`Body` or `text`), or an empty string when missing. */
  body: string;
  receivedAt: string;
}
