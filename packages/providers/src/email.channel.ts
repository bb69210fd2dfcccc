import { DeliveryError, type DeliveryErrorClass } from "@otpin/core";
import nodemailer, { type Transporter } from "nodemailer";
import { property } from "./delivery-failure.js";
import type { EmailChannel, EmailMessage, SendResult } from "./types.js";

export interface EmailChannelOptions {
  /** smtp:// or smtps:// URL, with credentials when the server needs them. */
  smtpUrl: string;
  /** Sender address, for example `otp@example.com` or `"Example" <otp@example.com>`. */
  from: string;
  /** Limit in milliseconds for connecting, for the greeting and for each idle wait on the socket. */
  timeoutMs: number;
}

/**
 * nodemailer error codes (nodemailer 10 `errors.js`) and their delivery error class. SMTP reply
 * codes are classified first by `classifySmtpReply`, so these apply when there was no reply.
 */
export const SMTP_ERROR_CLASSES: Readonly<Record<string, DeliveryErrorClass>> = {
  ETIMEDOUT: "timeout", // connection, greeting or socket timeout
  ECONNECTION: "provider_unavailable", // refused, closed or reset connection
  ESOCKET: "provider_unavailable",
  EDNS: "provider_unavailable",
  ETLS: "provider_unavailable",
  EAUTH: "auth",
  ENOAUTH: "auth",
};

/** Email channel over SMTP with nodemailer, the fallback when every SMS provider failed. */
export class SmtpEmailChannel implements EmailChannel {
  readonly name = "email" as const;
  private readonly transport: Transporter;

  constructor(private readonly options: EmailChannelOptions) {
    // nodemailer's defaults (2 min connect, 30 s greeting, 10 min socket) would hold a job for minutes.
    this.transport = nodemailer.createTransport({
      url: options.smtpUrl,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      dnsTimeout: options.timeoutMs,
    });
  }

  async send(message: EmailMessage): Promise<SendResult> {
    let info: { messageId?: string; accepted?: unknown[] };
    try {
      info = await this.transport.sendMail({
        from: this.options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    } catch (error) {
      throw classifySmtpError(error);
    }
    if (!Array.isArray(info.accepted) || info.accepted.length === 0) {
      throw new DeliveryError("invalid_recipient", "email send failed (invalid_recipient): SMTP server accepted no recipient", {
        provider: "email",
      });
    }
    return { provider: "email", messageId: info.messageId ?? "" };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** Classifies an SMTP reply code: 535 is `auth`, 550 and 553 are `invalid_recipient`, 4xx is transient. */
export function classifySmtpReply(responseCode: number): DeliveryErrorClass {
  if (responseCode === 535 || responseCode === 530) return "auth";
  if (responseCode === 550 || responseCode === 553) return "invalid_recipient";
  if (responseCode >= 400 && responseCode < 500) return "provider_unavailable";
  return "unknown";
}

/**
 * Classifies a nodemailer error by its SMTP reply code (`responseCode`) when the server sent one,
 * else by nodemailer's `code`. The message names SMTP, the reply code and the nodemailer code,
 * but never the server's reply text, which usually repeats the recipient address.
 */
export function classifySmtpError(error: unknown): DeliveryError {
  const responseCode = property(error, "responseCode");
  const code = property(error, "code");
  const nodemailerCode = typeof code === "string" ? code : undefined;

  let errorClass: DeliveryErrorClass = "unknown";
  if (typeof responseCode === "number") errorClass = classifySmtpReply(responseCode);
  else if (nodemailerCode !== undefined) errorClass = SMTP_ERROR_CLASSES[nodemailerCode] ?? "unknown";
  // An EAUTH carries the server's 5xx reply code, which must not turn into a recipient error.
  if (nodemailerCode === "EAUTH") errorClass = "auth";

  let reason = "no SMTP reply";
  if (typeof responseCode === "number") reason = `SMTP reply ${responseCode}`;
  else if (errorClass === "timeout") reason = "SMTP server timed out";
  // nodemailer 10 sets timeoutType to CONNECT_TIMEOUT, GREETING_TIMEOUT, SOCKET_TIMEOUT or UPGRADE_TIMEOUT.
  const codes = [nodemailerCode, property(error, "timeoutType")].filter((value) => typeof value === "string");
  const suffix = codes.length > 0 ? ` (${codes.join(", ")})` : "";
  return new DeliveryError(errorClass, `email send failed (${errorClass}): ${reason}${suffix}`, {
    provider: "email",
    providerCode: typeof responseCode === "number" ? String(responseCode) : nodemailerCode,
  });
}
