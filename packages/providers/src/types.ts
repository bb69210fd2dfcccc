import type { SmsProviderName } from "@otpin/core";

/** One SMS to send. `to` is E.164; `body` is the rendered text, which contains the code. */
export interface SmsMessage {
  otpId: string;
  to: string;
  body: string;
  /** URL the provider calls with delivery receipts for this message; none are requested when unset. */
  statusCallbackUrl?: string | undefined;
}

/** A provider's acceptance of a message. Accepted means queued by the provider, not delivered. */
export interface SendResult {
  provider: string;
  messageId: string;
}

/**
 * One SMS provider on its official SDK. `send` resolves only when the provider accepted the
 * message and rejects with a classified `DeliveryError` otherwise, including timeouts.
 */
export interface SmsProvider {
  readonly name: SmsProviderName;
  send(message: SmsMessage): Promise<SendResult>;
}

export interface EmailMessage {
  otpId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The email fallback channel. Rejects with a `DeliveryError` whose provider is `email`. */
export interface EmailChannel {
  readonly name: "email";
  send(message: EmailMessage): Promise<SendResult>;
  close(): Promise<void>;
}
