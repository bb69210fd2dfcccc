import { type DeliveryError, type DeliveryErrorClass, isGsm7 } from "@otpin/core";
import { Vonage } from "@vonage/server-sdk";
import { DEADLINE_EXCEEDED, withDeadline } from "./deadline.js";
import { classifyHttpStatus, classifyNetworkCode, deliveryFailure, property, timeoutFailure } from "./delivery-failure.js";
import type { SendResult, SmsMessage, SmsProvider } from "./types.js";

export interface VonageProviderOptions {
  apiKey: string;
  apiSecret: string;
  /** Sender number without + or an alphanumeric sender id. */
  from: string;
  /** Base URL that replaces https://rest.nexmo.com (the SDK's `restHost`), for the simulator or a proxy. */
  apiUrl?: string | undefined;
  /** Request timeout in milliseconds, which must be shorter than the circuit breaker's timeout. */
  timeoutMs: number;
}

/**
 * Per-message statuses of the Vonage SMS API and their delivery error class. Status "3" (invalid parameters) is about the recipient only
 * when its error text names the To number, so `classifyVonageStatus` handles it before this table.
 */
export const VONAGE_STATUS_CLASSES: Readonly<Record<string, DeliveryErrorClass>> = {
  "1": "throttled", // throttled: more than the allowed messages per second
  "4": "auth", // invalid credentials
  "5": "provider_unavailable", // internal error
  "6": "invalid_recipient", // unroutable message
  "7": "opted_out", // number barred
  "8": "not_permitted", // partner account barred
  "9": "not_permitted", // partner quota violation
  "14": "auth", // invalid signature
  "29": "not_permitted", // non-whitelisted destination
  "33": "invalid_recipient", // invalid destination number
};

/**
 * Statuses that restrict the whole account rather than one destination: a barred account, a spent
 * quota, or a trial account limited to whitelisted numbers. Every send fails the same way, so the
 * breaker counts them although their class is `not_permitted`.
 */
export const VONAGE_ACCOUNT_STATUSES: ReadonlySet<string> = new Set(["8", "9", "29"]);

type SmsParams = NonNullable<Parameters<Vonage["sms"]["send"]>[0]>;

/** Sends SMS through the Vonage SMS API (`vonage.sms.send`) with the official `@vonage/server-sdk`. */
export class VonageProvider implements SmsProvider {
  readonly name = "vonage" as const;
  private readonly vonage: Vonage;

  constructor(private readonly options: VonageProviderOptions) {
    this.vonage = new Vonage(
      { apiKey: options.apiKey, apiSecret: options.apiSecret },
      { timeout: options.timeoutMs, ...(options.apiUrl === undefined ? {} : { restHost: options.apiUrl.replace(/\/+$/, "") }) },
    );
  }

  async send(message: SmsMessage): Promise<SendResult> {
    const params: SmsParams = { to: message.to.replace(/^\+/, ""), from: this.options.from, text: message.body };
    // Without type "unicode" Vonage encodes the text as GSM-7, which garbles other characters.
    if (!isGsm7(message.body)) params.type = "unicode" as NonNullable<SmsParams["type"]>;
    if (message.statusCallbackUrl !== undefined) params.callback = message.statusCallbackUrl;

    const { timeoutMs } = this.options;
    // The SDK's own timer aborts the fetch after timeoutMs, body included, which closes the socket.
    // But when it fires while the body is being read, @vonage/server-client 1.20 catches the
    // AbortError while decoding the body, so the send fails as if the response were malformed.
    // The deadline, whose timer starts first, reports that case as a timeout.
    let response: Awaited<ReturnType<Vonage["sms"]["send"]>> | typeof DEADLINE_EXCEEDED;
    try {
      response = await withDeadline(timeoutMs, () => this.vonage.sms.send(params));
    } catch (error) {
      throw classifyVonageError(error, timeoutMs);
    }
    if (response === DEADLINE_EXCEEDED) throw timeoutFailure("vonage", timeoutMs);

    const messageId: unknown = response.messages?.[0]?.messageId;
    if (typeof messageId !== "string" || messageId === "") {
      throw deliveryFailure("vonage", "unknown", { httpStatus: 200, providerCode: "missing_message_id" });
    }
    return { provider: this.name, messageId };
  }
}

/** Classifies one per-message status of an HTTP 200 response. */
export function classifyVonageStatus(status: string, errorText: string): DeliveryErrorClass {
  if (status === "3") return /\bto\b/i.test(errorText) ? "invalid_recipient" : "unknown";
  return VONAGE_STATUS_CLASSES[status] ?? "unknown";
}

/**
 * Classifies what the Vonage SDK rejects with. @vonage/sms 1.21 throws an SMSFailure subclass
 * when any message has a non-"0" status, with the statuses in `response.messages`. A non-2xx
 * response is a VetchError with `response.status`. node-fetch rejects with an AbortError when the
 * SDK's timeout fires and with a FetchError carrying a system `code` on network errors.
 */
export function classifyVonageError(error: unknown, timeoutMs: number): DeliveryError {
  const response = property(error, "response");
  const failed = property(response, "messages");
  if (typeof property(error, "getFailedMessages") === "function" && Array.isArray(failed)) {
    const first = failed.find((entry) => property(entry, "status") !== "0");
    const status = String(property(first, "status") ?? "");
    const errorText = String(property(first, "errorText") ?? "");
    return deliveryFailure("vonage", classifyVonageStatus(status, errorText), {
      httpStatus: 200,
      providerCode: status,
      countsAgainstBreaker: VONAGE_ACCOUNT_STATUSES.has(status) ? true : undefined,
    });
  }

  const httpStatus = property(response, "status");
  if (typeof httpStatus === "number") {
    return deliveryFailure("vonage", classifyHttpStatus(httpStatus), { httpStatus });
  }
  if (property(error, "name") === "AbortError") return timeoutFailure("vonage", timeoutMs);

  const code = property(error, "code");
  if (typeof code === "string") return deliveryFailure("vonage", classifyNetworkCode(code), { networkCode: code });
  return deliveryFailure("vonage", "unknown", {});
}
