import type { IncomingMessage, ServerResponse } from "node:http";
import { parseBody, RequestBodyError, type RequestFields, readBody, stringField } from "./body.js";
import type { SimulatorContext } from "./context.js";
import type { ManualReceipt, ReceiptOptions } from "./receipt-sender.js";
import { sendJson, sendNoContent } from "./reply.js";
import { PROVIDER_NAMES, type ProviderName } from "./types.js";

const VONAGE_METHODS: readonly ReceiptOptions["vonageMethod"][] = ["GET", "POST", "POST-JSON"];

/** `GET /_control/receipts`: the receipts sent so far and the current receipt settings. */
export function listReceipts(context: SimulatorContext, _request: IncomingMessage, response: ServerResponse): void {
  sendJson(response, 200, { options: context.receipts.getOptions(), receipts: context.receipts.list() });
}

/** `PUT /_control/receipts` with `{ delayMs?, redirects?, vonageMethod? }`. */
export async function setReceiptOptions(
  context: SimulatorContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const fields = await readJson(request, response);
  if (fields === undefined) return;
  const options: Partial<ReceiptOptions> = {};
  const { delayMs, redirects, vonageMethod } = fields;
  if (delayMs !== undefined) {
    if (typeof delayMs !== "number" || !Number.isInteger(delayMs) || delayMs < 0 || delayMs > 600_000) {
      return sendJson(response, 400, { error: "delayMs must be a whole number of milliseconds from 0 to 600000" });
    }
    options.delayMs = delayMs;
  }
  if (redirects !== undefined) {
    if (!isOriginMap(redirects))
      return sendJson(response, 400, {
        error: 'redirects must map origins to origins, such as {"https://otp.example.test": "http://127.0.0.1:3000"}',
      });
    options.redirects = redirects;
  }
  if (vonageMethod !== undefined) {
    if (!VONAGE_METHODS.includes(vonageMethod as ReceiptOptions["vonageMethod"])) {
      return sendJson(response, 400, { error: `vonageMethod must be one of ${VONAGE_METHODS.join(", ")}` });
    }
    options.vonageMethod = vonageMethod as ReceiptOptions["vonageMethod"];
  }
  context.receipts.setOptions(options);
  sendNoContent(response);
}

/** `POST /_control/receipt` with `{ provider, messageId, status, errorCode?, url? }`: sends one signed receipt now. */
export async function sendManualReceipt(
  context: SimulatorContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const fields = await readJson(request, response);
  if (fields === undefined) return;
  const provider = stringField(fields, "provider");
  const messageId = stringField(fields, "messageId");
  const status = stringField(fields, "status");
  if (provider === undefined || !PROVIDER_NAMES.includes(provider as ProviderName)) {
    return sendJson(response, 400, { error: `provider must be one of ${PROVIDER_NAMES.join(", ")}` });
  }
  if (messageId === undefined || messageId === "" || status === undefined || status === "") {
    return sendJson(response, 400, { error: "messageId and status are required" });
  }
  const receipt: ManualReceipt = { provider: provider as ProviderName, messageId, status };
  const errorCode = stringField(fields, "errorCode");
  const url = stringField(fields, "url");
  if (errorCode !== undefined) receipt.errorCode = errorCode;
  if (url !== undefined) receipt.url = url;
  try {
    sendJson(response, 200, await context.receipts.send(receipt));
  } catch (error) {
    sendJson(response, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}

async function readJson(request: IncomingMessage, response: ServerResponse): Promise<RequestFields | undefined> {
  try {
    return parseBody("application/json", await readBody(request));
  } catch (error) {
    if (!(error instanceof RequestBodyError)) throw error;
    sendJson(response, error.status, { error: error.message });
    return undefined;
  }
}

function isOriginMap(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(([from, to]) => typeof to === "string" && isUrl(from) && isUrl(to));
}

function isUrl(value: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
