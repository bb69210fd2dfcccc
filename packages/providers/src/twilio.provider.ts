import type { DeliveryError, DeliveryErrorClass } from "@otpin/core";
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import { classifyHttpStatus, classifyNetworkCode, deliveryFailure, property, timeoutFailure } from "./delivery-failure.js";
import type { SendResult, SmsMessage, SmsProvider } from "./types.js";

export interface TwilioProviderOptions {
  accountSid: string;
  authToken: string;
  /** Sender: a Twilio number in E.164, an alphanumeric sender id or a messaging service sid. */
  from: string;
  /** Base URL that replaces https://api.twilio.com, for the simulator or a proxy. */
  apiUrl?: string | undefined;
  /** Request timeout in milliseconds, which must be shorter than the circuit breaker's timeout. */
  timeoutMs: number;
}

/** Twilio REST API error codes and their delivery error class. Unlisted codes fall back to the HTTP status. */
export const TWILIO_ERROR_CLASSES: Readonly<Record<number, DeliveryErrorClass>> = {
  21211: "invalid_recipient", // invalid 'To' phone number
  21217: "invalid_recipient", // phone number does not appear to be valid
  21401: "invalid_recipient", // invalid phone number
  21407: "invalid_recipient", // this phone number type does not support SMS
  21614: "invalid_recipient", // 'To' number is not a valid mobile number
  21610: "opted_out", // recipient replied STOP
  21408: "not_permitted", // no geo permission for the region of 'To'
  21612: "not_permitted", // 'To' number not reachable from this account's sender
  20429: "throttled",
  14107: "throttled", // message rate limit exceeded
  20003: "auth", // authentication failed
};

/**
 * A RequestClient whose `timeoutMs` bounds each whole request. The SDK passes the timeout to axios,
 * which stops applying it once the socket is connected and then only limits idle time, so a
 * server that trickles bytes would keep the request open. An AbortSignal.timeout on each axios
 * request aborts it and closes the socket after timeoutMs whatever the server does, and axios
 * then rejects with a CanceledError (code ERR_CANCELED).
 *
 * With `apiUrl` set, it also sends every request for a *.twilio.com host to `apiUrl` instead, so
 * the SDK talks to the simulator without patching globals.
 */
class BoundedRequestClient extends twilio.RequestClient {
  constructor(
    timeoutMs: number,
    private readonly apiUrl: URL | undefined,
  ) {
    super({ timeout: timeoutMs });
    this.axios.interceptors.request.use((config) => {
      config.signal = AbortSignal.timeout(timeoutMs);
      return config;
    });
  }

  override request<TData>(options: RequestClient.RequestOptions<TData>) {
    if (this.apiUrl === undefined) return super.request<TData>(options);
    return super.request<TData>({ ...options, uri: redirectUri(options.uri, this.apiUrl) });
  }
}

/** Rewrites a Twilio API URI onto `apiUrl`, keeping its path (after apiUrl's own path) and query. */
export function redirectUri(uri: string, apiUrl: URL): string {
  const original = new URL(uri);
  const host = original.hostname;
  if (host !== "twilio.com" && !host.endsWith(".twilio.com")) return uri;
  const basePath = apiUrl.pathname.replace(/\/+$/, "");
  return `${apiUrl.origin}${basePath}${original.pathname}${original.search}`;
}

/** Sends SMS through Twilio's Messages API with the official `twilio` SDK. */
export class TwilioProvider implements SmsProvider {
  readonly name = "twilio" as const;
  private readonly client: twilio.Twilio;

  constructor(private readonly options: TwilioProviderOptions) {
    const apiUrl = options.apiUrl === undefined ? undefined : new URL(options.apiUrl);
    const httpClient = new BoundedRequestClient(options.timeoutMs, apiUrl);
    // autoRetry stays off because the failover chain, not the SDK, decides what happens after a 429.
    this.client = twilio(options.accountSid, options.authToken, { httpClient, autoRetry: false });
  }

  async send(message: SmsMessage): Promise<SendResult> {
    let sid: unknown;
    try {
      const created = await this.client.messages.create({
        to: message.to,
        from: this.options.from,
        body: message.body,
        ...(message.statusCallbackUrl === undefined ? {} : { statusCallback: message.statusCallbackUrl }),
      });
      sid = created.sid;
    } catch (error) {
      throw classifyTwilioError(error, this.options.timeoutMs);
    }
    if (typeof sid !== "string" || sid === "") {
      throw deliveryFailure("twilio", "unknown", { providerCode: "missing_sid" });
    }
    return { provider: this.name, messageId: sid };
  }
}

/**
 * Classifies what the Twilio SDK rejects with. That is a RestException or TwilioServiceException
 * with numeric `status` and `code`, or an axios error. The axios error's `code` is ECONNABORTED
 * when the axios timeout fired, ERR_CANCELED when BoundedRequestClient's AbortSignal fired, or a
 * system error code such as ECONNREFUSED.
 */
export function classifyTwilioError(error: unknown, timeoutMs: number): DeliveryError {
  const status = property(error, "status");
  const code = property(error, "code");
  if (typeof status === "number") {
    const known = typeof code === "number" ? TWILIO_ERROR_CLASSES[code] : undefined;
    const providerCode = typeof code === "number" && code !== 0 ? String(code) : undefined;
    return deliveryFailure("twilio", known ?? classifyHttpStatus(status), { httpStatus: status, providerCode });
  }
  if (typeof code === "string") {
    // axios 1.x reports its own request timeout as ECONNABORTED and uses that code for nothing else.
    if (code === "ECONNABORTED") return timeoutFailure("twilio", timeoutMs);
    // Only BoundedRequestClient's AbortSignal.timeout cancels Twilio requests.
    if (code === "ERR_CANCELED") return timeoutFailure("twilio", timeoutMs);
    return deliveryFailure("twilio", classifyNetworkCode(code), { networkCode: code });
  }
  return deliveryFailure("twilio", "unknown", {});
}
