import { randomBytes } from "node:crypto";
import type { SimulatorCredentials } from "./credentials.js";
import { plivoV3Signature, twilioSignature, vonageSignature } from "./receipt-signing.js";
import type { ProviderName } from "./types.js";

/** How Vonage delivers receipts: the account's webhook method setting. */
export type VonageReceiptMethod = "GET" | "POST" | "POST-JSON";

/** A message whose receipts the simulator sends. */
export interface TrackedMessage {
  provider: ProviderName;
  id: string;
  /** E.164 with the leading `+`. */
  to: string;
  from: string;
  /** The status callback URL from the send request; receipts are signed for it. */
  callbackUrl: string;
}

/** An HTTP request that carries one signed receipt, addressed to the signed URL. */
export interface ReceiptHttpRequest {
  method: "GET" | "POST";
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Builds the signed request for one receipt, in the provider's field names and signature scheme. */
export function formatReceipt(
  message: TrackedMessage,
  step: { status: string; errorCode?: string | undefined },
  credentials: SimulatorCredentials,
  vonageMethod: VonageReceiptMethod,
): ReceiptHttpRequest {
  switch (message.provider) {
    case "twilio":
      return twilioReceipt(message, step, credentials.twilio);
    case "plivo":
      return plivoReceipt(message, step, credentials.plivo);
    case "vonage":
      return vonageReceipt(message, step, credentials.vonage, vonageMethod);
  }
}

const FORM = "application/x-www-form-urlencoded";

function twilioReceipt(
  message: TrackedMessage,
  step: { status: string; errorCode?: string | undefined },
  credentials: SimulatorCredentials["twilio"],
): ReceiptHttpRequest {
  const params: Record<string, string> = {
    AccountSid: credentials.accountSid,
    ApiVersion: "2010-04-01",
    From: message.from,
    MessageSid: message.id,
    MessageStatus: step.status,
    SmsSid: message.id,
    SmsStatus: step.status,
    To: message.to,
    ...(step.errorCode === undefined ? {} : { ErrorCode: step.errorCode }),
  };
  const signature = twilioSignature(credentials.authToken, message.callbackUrl, params);
  return {
    method: "POST",
    url: message.callbackUrl,
    headers: { "content-type": FORM, "x-twilio-signature": signature },
    body: new URLSearchParams(params).toString(),
  };
}

function plivoReceipt(
  message: TrackedMessage,
  step: { status: string; errorCode?: string | undefined },
  credentials: SimulatorCredentials["plivo"],
): ReceiptHttpRequest {
  const params: Record<string, string> = {
    From: message.from.replace(/^\+/, ""),
    MessageTime: new Date().toISOString().replace("T", " ").slice(0, 19),
    MessageUUID: message.id,
    ParentMessageUUID: message.id,
    Status: step.status,
    To: message.to.replace(/^\+/, ""),
    TotalAmount: "0.00500",
    TotalRate: "0.00500",
    Units: "1",
    ...(step.errorCode === undefined ? {} : { ErrorCode: step.errorCode }),
  };
  const nonce = String(BigInt(`0x${randomBytes(8).toString("hex")}`));
  return {
    method: "POST",
    url: message.callbackUrl,
    headers: {
      "content-type": FORM,
      "x-plivo-signature-v3": plivoV3Signature(credentials.authToken, message.callbackUrl, nonce, params),
      "x-plivo-signature-v3-nonce": nonce,
    },
    body: new URLSearchParams(params).toString(),
  };
}

function vonageReceipt(
  message: TrackedMessage,
  step: { status: string; errorCode?: string | undefined },
  credentials: SimulatorCredentials["vonage"],
  method: VonageReceiptMethod,
): ReceiptHttpRequest {
  const now = new Date();
  const params: Record<string, string> = {
    "api-key": credentials.apiKey,
    "err-code": step.errorCode ?? (step.status === "delivered" ? "0" : "99"),
    messageId: message.id,
    "message-timestamp": now.toISOString().replace("T", " ").slice(0, 19),
    msisdn: message.to.replace(/^\+/, ""),
    "network-code": "12345",
    nonce: randomBytes(16).toString("hex"),
    price: "0.03000000",
    scts: scts(now),
    status: step.status,
    timestamp: String(Math.floor(now.getTime() / 1000)),
    to: message.from.replace(/^\+/, ""),
  };
  params.sig = vonageSignature(credentials.signatureSecret, credentials.signatureMethod, params);
  if (method === "GET") {
    const url = new URL(message.callbackUrl);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return { method: "GET", url: url.toString(), headers: {}, body: undefined };
  }
  if (method === "POST-JSON") {
    return {
      method: "POST",
      url: message.callbackUrl,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
    };
  }
  return {
    method: "POST",
    url: message.callbackUrl,
    headers: { "content-type": FORM },
    body: new URLSearchParams(params).toString(),
  };
}

/** Vonage's `scts`: the carrier's receipt time as YYMMDDHHMM in UTC. */
function scts(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(2, 12);
}
