import { randomBytes } from "node:crypto";
import { type RequestFields, stringField } from "./body.js";
import { parseBasicAuth, type SimulatorCredentials } from "./credentials.js";
import { toE164 } from "./e164.js";
import { findMagicRecipient } from "./magic-recipients.js";
import type { ProviderApi, ProviderReply, ProviderRequest, SendResult } from "./provider-api.js";
import type { SimulatedFailure } from "./types.js";

const SEND_PATH = "/sms/json";

/** Error texts of the Vonage SMS API per-message statuses that the simulator returns by default. */
const STATUS_TEXTS: Readonly<Record<string, string>> = {
  "1": "Throughput Rate Exceeded",
  "2": "Missing Parameters",
  "3": "Invalid Parameters",
  "4": "Bad Credentials",
  "5": "Internal Error",
  "6": "Invalid Message",
  "7": "Number Barred",
  "8": "Partner Account Barred",
  "9": "Partner Quota Violation",
  "14": "Invalid Signature",
  "29": "Non-Whitelisted Destination",
  "33": "Number De-activated",
};

/**
 * Creates the Vonage SMS API (`POST /sms/json`) as @vonage/sms 1.21 calls it: a JSON body with
 * HTTP Basic auth. Form bodies and `api_key`/`api_secret` fields or query parameters, which older
 * clients send, are accepted too. Errors are HTTP 200 responses with a non-zero per-message status.
 */
export function createVonageApi(credentials: SimulatorCredentials["vonage"]): ProviderApi {
  return {
    name: "vonage",
    matchPath: (pathname) => (pathname === SEND_PATH ? {} : undefined),
    isAuthorized(request) {
      const basic = parseBasicAuth(request.headers.authorization);
      const apiKey = basic?.username ?? stringField(request.fields, "api_key") ?? request.query.get("api_key");
      const apiSecret = basic?.password ?? stringField(request.fields, "api_secret") ?? request.query.get("api_secret");
      return apiKey === credentials.apiKey && apiSecret === credentials.apiSecret;
    },
    send: sendMessage,
    authFailure: () => vonageError("4", "Bad Credentials"),
    throttled: () => vonageError("1", "Throughput Rate Exceeded"),
    failure: vonageFailure,
    badRequest: (status, message) => ({ status, body: { "error-text": message } }),
  };
}

function sendMessage(request: ProviderRequest): SendResult {
  const fields: RequestFields = request.fields;
  const from = stringField(fields, "from");
  const rawTo = stringField(fields, "to");
  const text = stringField(fields, "text");

  if (from === undefined || from === "") return rejected(vonageError("2", "Missing from param"));
  if (rawTo === undefined || rawTo === "") return rejected(vonageError("2", "Missing to param"));
  if (text === undefined || text === "") return rejected(vonageError("2", "Missing text param"));

  const to = toE164(rawTo);
  if (to === undefined) return rejected(vonageError("3", "Invalid To Number"));
  const magic = findMagicRecipient(to);
  if (magic !== undefined) return rejected(vonageError(magic.vonage.status, magic.vonage.errorText));

  const messageId = randomBytes(8).toString("hex").toUpperCase();
  const message = {
    to: to.slice(1),
    "message-id": messageId,
    status: "0",
    "remaining-balance": "10.0",
    "message-price": "0.03",
    network: "12345",
  };
  return {
    reply: { status: 200, body: { "message-count": "1", messages: [message] } },
    accepted: [{ id: messageId, to, from, body: text }],
  };
}

/** HTTP 200 with the code as per-message status when `status` is 200, otherwise that HTTP status. */
function vonageFailure(failure: SimulatedFailure): ProviderReply {
  if (failure.status !== 200) {
    return {
      status: failure.status,
      body: { "error-text": failure.message ?? `simulated Vonage failure (HTTP ${failure.status})` },
    };
  }
  const status = String(failure.code ?? "5");
  return vonageError(status, failure.message ?? STATUS_TEXTS[status] ?? "simulated Vonage failure");
}

/** Builds the HTTP 200 response that reports one failed message. */
function vonageError(status: string, errorText: string): ProviderReply {
  return { status: 200, body: { "message-count": "1", messages: [{ status, "error-text": errorText }] } };
}

function rejected(reply: ProviderReply): SendResult {
  return { reply, accepted: [] };
}
