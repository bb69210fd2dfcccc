import type { DeliveryError, DeliveryErrorClass } from "@otpin/core";
import plivo from "plivo";
import { DEADLINE_EXCEEDED, withDeadline } from "./deadline.js";
import {
  classifyHttpStatus,
  classifyNetworkCode,
  deliveryFailure,
  findNetworkCode,
  property,
  timeoutFailure,
} from "./delivery-failure.js";
import type { SendResult, SmsMessage, SmsProvider } from "./types.js";

export interface PlivoProviderOptions {
  authId: string;
  authToken: string;
  /** Sender number in E.164 or a registered sender id. */
  from: string;
  /**
   * The client's `url` option: the account URL `<base>/v1/Account/<authId>`, for the simulator or
   * a proxy. Unset means Plivo's cloud.
   */
  apiUrl?: string | undefined;
  /** Request timeout in milliseconds, which must be shorter than the circuit breaker's timeout. */
  timeoutMs: number;
}

/**
 * Plivo returns errors as free text in `error`, not as codes, so this table matches that text.
 * The first matching row wins. A 403 on the Message endpoint (the SDK's GeoPermissionError)
 * that matches no row is `not_permitted`.
 */
export const PLIVO_ERROR_CLASSES: readonly { pattern: RegExp; errorClass: DeliveryErrorClass }[] = [
  { pattern: /opted[ -]?out|unsubscribed/i, errorClass: "opted_out" },
  { pattern: /invalid dst|landline|not a (valid )?mobile/i, errorClass: "invalid_recipient" },
  { pattern: /not permitted|geo permission/i, errorClass: "not_permitted" },
];

/** Sends SMS through Plivo's Message API with the official `plivo` SDK. */
export class PlivoProvider implements SmsProvider {
  readonly name = "plivo" as const;
  private readonly client: plivo.Client;

  constructor(private readonly options: PlivoProviderOptions) {
    // The SDK builds every request URL as `${url}/${action}`, so `url` ends in the account path.
    const url = (options.apiUrl ?? `https://api.plivo.com/v1/Account/${options.authId}`).replace(/\/+$/, "");
    this.client = new plivo.Client(options.authId, options.authToken, {
      url,
      timeout: options.timeoutMs,
    });
  }

  async send(message: SmsMessage): Promise<SendResult> {
    const { timeoutMs } = this.options;
    // The SDK's `timeout` is axios's, which only limits how long the socket may stay idle once
    // connected, so a server that trickles bytes would keep the send alive. The deadline bounds the
    // whole send instead.
    // NOTE: the SDK calls the shared default axios instance with options it builds itself, so there
    // is no way to pass an AbortSignal. After the deadline the abandoned request stays open until
    // the response ends or the socket is idle for timeoutMs.
    let response: Awaited<ReturnType<plivo.Client["messages"]["create"]>> | typeof DEADLINE_EXCEEDED;
    try {
      // The SDK sends the optional `url` as the message's status callback.
      const optional = message.statusCallbackUrl === undefined ? undefined : { url: message.statusCallbackUrl };
      response = await withDeadline(timeoutMs, () =>
        this.client.messages.create(this.options.from, message.to, message.body, optional),
      );
    } catch (error) {
      throw classifyPlivoError(error, timeoutMs);
    }
    if (response === DEADLINE_EXCEEDED) throw timeoutFailure("plivo", timeoutMs);

    const uuids: unknown = response.messageUuid;
    // A 2xx without a message uuid means Plivo queued nothing, so it is not an acceptance.
    const messageId = Array.isArray(uuids) ? uuids[0] : uuids;
    if (typeof messageId !== "string" || messageId === "") {
      throw deliveryFailure("plivo", "unknown", { providerCode: "missing_message_uuid" });
    }
    return { provider: this.name, messageId };
  }
}

/**
 * Classifies what the Plivo SDK 4.x rejects with. For 400, 401, 403, 404, 405, 406, 409, 422 and
 * 500 it is a PlivoRestError with `status` and the body's `error` text as `message`. For other
 * statuses, such as 429, 502 and 503, it is a plain Error whose message is the axios message
 * "Request failed with status code N". On timeouts and network errors it is a string: the
 * axios error's stack trace.
 */
export function classifyPlivoError(error: unknown, timeoutMs: number): DeliveryError {
  if (typeof error === "string") return classifyPlivoNetworkError(error, timeoutMs);

  const status = property(error, "status");
  const message = property(error, "message");
  const text = typeof message === "string" ? message : "";
  if (typeof status === "number") {
    const row = PLIVO_ERROR_CLASSES.find((candidate) => candidate.pattern.test(text));
    const errorClass = row?.errorClass ?? (status === 403 ? "not_permitted" : classifyHttpStatus(status));
    return deliveryFailure("plivo", errorClass, { httpStatus: status });
  }

  const statusInText = /status code (\d{3})\b/.exec(text)?.[1];
  if (statusInText !== undefined) {
    const httpStatus = Number(statusInText);
    return deliveryFailure("plivo", classifyHttpStatus(httpStatus), { httpStatus });
  }
  return classifyPlivoNetworkError(text, timeoutMs);
}

function classifyPlivoNetworkError(stack: string, timeoutMs: number): DeliveryError {
  if (/timeout of \d+ms exceeded/.test(stack)) return timeoutFailure("plivo", timeoutMs);
  const networkCode = findNetworkCode(stack);
  if (networkCode === undefined) return deliveryFailure("plivo", "unknown", {});
  return deliveryFailure("plivo", classifyNetworkCode(networkCode), { networkCode });
}
