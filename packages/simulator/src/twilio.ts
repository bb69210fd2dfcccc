import { randomBytes } from "node:crypto";
import { stringField } from "./body.js";
import { parseBasicAuth, type SimulatorCredentials } from "./credentials.js";
import { isE164 } from "./e164.js";
import { findMagicRecipient } from "./magic-recipients.js";
import type { ProviderApi, ProviderReply, ProviderRequest, SendResult } from "./provider-api.js";
import { estimateSegments } from "./segments.js";
import type { SimulatedFailure } from "./types.js";

const API_VERSION = "2010-04-01";
const SEND_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

/**
 * Creates the Twilio Programmable Messaging API (`POST /2010-04-01/Accounts/{sid}/Messages.json`,
 * form-encoded `To`, `From`, `Body`, HTTP Basic auth) as twilio-node 5.13 calls it.
 */
export function createTwilioApi(credentials: SimulatorCredentials["twilio"]): ProviderApi {
  return {
    name: "twilio",
    matchPath(pathname) {
      const match = SEND_PATH.exec(pathname);
      return match?.[1] === undefined ? undefined : { accountSid: decodeURIComponent(match[1]) };
    },
    isAuthorized(request) {
      const basic = parseBasicAuth(request.headers.authorization);
      return (
        basic?.username === credentials.accountSid &&
        basic.password === credentials.authToken &&
        request.params.accountSid === credentials.accountSid
      );
    },
    send: (request) => sendMessage(request, credentials.accountSid),
    authFailure: () => twilioError(401, 20003, "Authenticate"),
    throttled: () => twilioError(429, 20429, "Too Many Requests"),
    failure: (failure: SimulatedFailure) =>
      twilioError(failure.status, twilioCode(failure), failure.message ?? `simulated Twilio failure (HTTP ${failure.status})`),
    badRequest: (status, message) => twilioError(status, status === 413 ? 21617 : 20001, message),
  };
}

function sendMessage(request: ProviderRequest, accountSid: string): SendResult {
  const to = stringField(request.fields, "To");
  const from = stringField(request.fields, "From") ?? stringField(request.fields, "MessagingServiceSid");
  const body = stringField(request.fields, "Body");

  if (to === undefined || to === "") return rejected(twilioError(400, 21604, "A 'To' phone number is required."));
  if (from === undefined || from === "") return rejected(twilioError(400, 21603, "A 'From' phone number is required."));
  if (body === undefined || body === "") return rejected(twilioError(400, 21602, "Message body is required."));
  if (!isE164(to)) return rejected(twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`));

  const magic = findMagicRecipient(to);
  if (magic !== undefined) return rejected(twilioError(magic.twilio.status, magic.twilio.code, magic.twilio.message));

  const sid = `SM${randomBytes(16).toString("hex")}`;
  return {
    reply: { status: 201, body: messageResource({ sid, accountSid, to, from, body }) },
    accepted: [{ id: sid, to, from, body }],
  };
}

interface MessageFields {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
}

/** Builds the message resource that Twilio returns on create, with its snake_case fields and RFC 2822 dates. */
function messageResource(message: MessageFields): Record<string, unknown> {
  const now = new Date().toUTCString().replace("GMT", "+0000");
  const uri = `/${API_VERSION}/Accounts/${message.accountSid}/Messages/${message.sid}`;
  return {
    account_sid: message.accountSid,
    api_version: API_VERSION,
    body: message.body,
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: "outbound-api",
    error_code: null,
    error_message: null,
    from: message.from,
    messaging_service_sid: null,
    num_media: "0",
    num_segments: String(estimateSegments(message.body)),
    price: null,
    price_unit: "USD",
    sid: message.sid,
    status: "queued",
    subresource_uris: { media: `${uri}/Media.json` },
    to: message.to,
    uri: `${uri}.json`,
  };
}

/** Builds Twilio's error body: `{ code, message, more_info, status }`. */
function twilioError(status: number, code: number, message: string): ProviderReply {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

/** Uses the scripted code when it is numeric; otherwise 20000 + status, the family of Twilio's 20429 and 20503. */
function twilioCode(failure: SimulatedFailure): number {
  const code = Number(failure.code);
  return failure.code !== undefined && Number.isInteger(code) ? code : 20_000 + failure.status;
}

function rejected(reply: ProviderReply): SendResult {
  return { reply, accepted: [] };
}
