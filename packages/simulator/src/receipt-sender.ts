import { setTimeout as delay } from "node:timers/promises";
import { type RequestFields, stringField } from "./body.js";
import type { SimulatorLogger } from "./context.js";
import type { SimulatorCredentials } from "./credentials.js";
import type { AcceptedMessage } from "./provider-api.js";
import { formatReceipt, type ReceiptHttpRequest, type TrackedMessage, type VonageReceiptMethod } from "./receipt-format.js";
import { receiptPlan } from "./receipt-plan.js";
import type { ProviderName } from "./types.js";

/** Default wait before each scheduled receipt, in milliseconds. */
export const DEFAULT_RECEIPT_DELAY_MS = 200;
const SEND_TIMEOUT_MS = 5_000;

/** Field of each provider's send request that carries the status callback URL. */
export const CALLBACK_FIELDS: Readonly<Record<ProviderName, string>> = {
  twilio: "StatusCallback",
  plivo: "url",
  vonage: "callback",
};

/** Settings of delivery receipts; each can be changed while the simulator runs. */
export interface ReceiptOptions {
  /** Wait before each scheduled receipt. */
  delayMs: number;
  /**
   * Origin to origin, such as `{ "https://otp.example.test": "http://127.0.0.1:3000" }`: a receipt
   * for a callback URL on the first origin is sent to the second, still signed for the first, as
   * a TLS-terminating proxy would forward it.
   */
  redirects: Record<string, string>;
  /** Vonage webhook method: query parameters (GET), a form body or a JSON body. */
  vonageMethod: VonageReceiptMethod;
}

/** A receipt to send by hand, to replay a late, duplicate or out-of-order receipt. */
export interface ManualReceipt {
  provider: ProviderName;
  messageId: string;
  /** Provider status value, such as Twilio `undelivered` or Vonage `failed`. */
  status: string;
  errorCode?: string;
  /** Callback URL to sign for; the one from the send request when unset. */
  url?: string;
}

/** One receipt the simulator sent, with the answer it got. */
export interface SentReceipt {
  provider: ProviderName;
  messageId: string;
  status: string;
  errorCode?: string;
  /** URL the receipt was signed for. */
  signedUrl: string;
  /** URL it was sent to, after `redirects`. */
  targetUrl: string;
  /** HTTP status of the answer; undefined when the request failed. */
  httpStatus?: number;
  error?: string;
  sentAt: string;
}

/** Sends signed delivery receipts for accepted messages that asked for them. */
export class ReceiptSender {
  private readonly tracked = new Map<string, TrackedMessage>();
  private sent: SentReceipt[] = [];

  constructor(
    private readonly credentials: SimulatorCredentials,
    private options: ReceiptOptions,
    private readonly shutdown: AbortSignal,
    private readonly logger: SimulatorLogger | undefined,
  ) {}

  setOptions(options: Partial<ReceiptOptions>): void {
    this.options = { ...this.options, ...options };
  }

  getOptions(): ReceiptOptions {
    return { ...this.options, redirects: { ...this.options.redirects } };
  }

  /** Returns the receipts sent so far, oldest first. */
  list(): SentReceipt[] {
    return this.sent.map((receipt) => ({ ...receipt }));
  }

  clear(): void {
    this.sent = [];
    this.tracked.clear();
  }

  /** Starts the receipts of an accepted message when its send request carried a callback URL. */
  schedule(provider: ProviderName, message: AcceptedMessage, fields: RequestFields): void {
    const callbackUrl = stringField(fields, CALLBACK_FIELDS[provider]);
    if (callbackUrl === undefined || callbackUrl === "") return;
    const tracked: TrackedMessage = { provider, id: message.id, to: message.to, from: message.from, callbackUrl };
    this.tracked.set(trackKey(provider, message.id), tracked);
    this.runPlan(tracked).catch((error: unknown) => {
      this.logger?.error({ err: error, provider }, "simulator receipt plan failed");
    });
  }

  /**
   * Sends one receipt now. A message the simulator did not accept needs `url`, and is then
   * reported from and to placeholder numbers.
   */
  async send(receipt: ManualReceipt): Promise<SentReceipt> {
    const known = this.tracked.get(trackKey(receipt.provider, receipt.messageId));
    const url = receipt.url ?? known?.callbackUrl;
    if (url === undefined)
      throw new Error(`no callback URL is known for ${receipt.provider} message ${receipt.messageId}; pass url`);
    const message: TrackedMessage = known
      ? { ...known, callbackUrl: url }
      : { provider: receipt.provider, id: receipt.messageId, to: "+15005550006", from: "+15005550006", callbackUrl: url };
    return this.deliver(message, { status: receipt.status, errorCode: receipt.errorCode });
  }

  private async runPlan(message: TrackedMessage): Promise<void> {
    for (const step of receiptPlan(message.provider, message.to)) {
      try {
        await delay(this.options.delayMs, undefined, { signal: this.shutdown });
      } catch {
        return;
      }
      await this.deliver(message, step);
    }
  }

  private async deliver(message: TrackedMessage, step: { status: string; errorCode?: string | undefined }): Promise<SentReceipt> {
    const request = formatReceipt(message, step, this.credentials, this.options.vonageMethod);
    const targetUrl = this.redirect(request.url);
    const record: SentReceipt = {
      provider: message.provider,
      messageId: message.id,
      status: step.status,
      ...(step.errorCode === undefined ? {} : { errorCode: step.errorCode }),
      signedUrl: request.url,
      targetUrl,
      sentAt: new Date().toISOString(),
    };
    try {
      record.httpStatus = await post(request, targetUrl, this.shutdown);
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    }
    this.sent.push(record);
    this.logger?.debug({ provider: message.provider, status: step.status, httpStatus: record.httpStatus }, "receipt sent");
    return { ...record };
  }

  private redirect(url: string): string {
    const parsed = new URL(url);
    for (const [from, to] of Object.entries(this.options.redirects)) {
      if (new URL(from).origin !== parsed.origin) continue;
      const target = new URL(to);
      return `${target.origin}${parsed.pathname}${parsed.search}`;
    }
    return url;
  }
}

function trackKey(provider: ProviderName, messageId: string): string {
  return `${provider}:${messageId}`;
}

async function post(request: ReceiptHttpRequest, targetUrl: string, shutdown: AbortSignal): Promise<number> {
  const response = await fetch(targetUrl, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.any([shutdown, AbortSignal.timeout(SEND_TIMEOUT_MS)]),
  });
  await response.arrayBuffer();
  return response.status;
}
