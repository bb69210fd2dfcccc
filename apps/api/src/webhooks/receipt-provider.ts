import type { IncomingHttpHeaders } from "node:http";
import type { ApiConfig, DeliveryState } from "@otpin/core";
import { plivoReceipts } from "./plivo-receipt.js";
import { twilioReceipts } from "./twilio-receipt.js";
import { vonageReceipts } from "./vonage-receipt.js";

/** What the policy does after an `undelivered` receipt: re-send through the next provider, or email. */
export type ReceiptPolicy = "route" | "handset";

/** A delivery receipt in otpin's terms. */
export interface ParsedReceipt {
  messageId: string;
  state: DeliveryState;
  errorCode: string | undefined;
}

/** A webhook request as the verifiers need it. `url` is the public URL the provider called. */
export interface WebhookRequest {
  url: string;
  params: Readonly<Record<string, string>>;
  headers: IncomingHttpHeaders;
}

/** One provider's receipt format, signature check and error-code policy. */
export interface ReceiptProvider {
  readonly name: "twilio" | "plivo" | "vonage";
  verify(request: WebhookRequest): boolean;
  /** Returns undefined when the fields are not a receipt this provider sends. */
  parse(params: Readonly<Record<string, string>>): ParsedReceipt | undefined;
  /** Classifies the error code of an `undelivered` receipt; undefined means no further action. */
  policy(errorCode: string | undefined): ReceiptPolicy | undefined;
}

/** Builds the receipt handlers of the providers whose signing secret is configured. */
export function createReceiptProviders(config: ApiConfig): Map<string, ReceiptProvider> {
  const providers: ReceiptProvider[] = [];
  if (config.TWILIO_AUTH_TOKEN !== undefined) providers.push(twilioReceipts(config.TWILIO_AUTH_TOKEN));
  if (config.PLIVO_AUTH_TOKEN !== undefined) providers.push(plivoReceipts(config.PLIVO_AUTH_TOKEN));
  if (config.VONAGE_SIGNATURE_SECRET !== undefined) {
    providers.push(vonageReceipts(config.VONAGE_SIGNATURE_SECRET, config.VONAGE_SIGNATURE_METHOD));
  }
  return new Map(providers.map((provider) => [provider.name, provider]));
}
