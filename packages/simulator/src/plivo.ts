import { randomUUID } from "node:crypto";
import { stringField } from "./body.js";
import { parseBasicAuth, type SimulatorCredentials } from "./credentials.js";
import { toE164 } from "./e164.js";
import { findMagicRecipient } from "./magic-recipients.js";
import type { AcceptedMessage, ProviderApi, ProviderReply, ProviderRequest, SendResult } from "./provider-api.js";
import type { SimulatedFailure } from "./types.js";

const SEND_PATH = /^\/v1\/Account\/([^/]+)\/Message\/?$/;

/**
 * Creates the Plivo Message API (`POST /v1/Account/{authId}/Message/`, JSON `src`, `dst`, `text`,
 * HTTP Basic auth) as the plivo 4.79 Node SDK calls it. The SDK sends more fields, which are ignored.
 */
export function createPlivoApi(credentials: SimulatorCredentials["plivo"]): ProviderApi {
  return {
    name: "plivo",
    matchPath(pathname) {
      const match = SEND_PATH.exec(pathname);
      return match?.[1] === undefined ? undefined : { authId: decodeURIComponent(match[1]) };
    },
    isAuthorized(request) {
      const basic = parseBasicAuth(request.headers.authorization);
      return (
        basic?.username === credentials.authId &&
        basic.password === credentials.authToken &&
        request.params.authId === credentials.authId
      );
    },
    send: sendMessage,
    authFailure: () => plivoError(401, "authentication failed: check the auth id and auth token"),
    throttled: () => plivoError(429, "too many requests"),
    failure: (failure: SimulatedFailure) =>
      plivoError(failure.status, failure.message ?? `simulated Plivo failure (HTTP ${failure.status})`),
    badRequest: plivoError,
  };
}

function sendMessage(request: ProviderRequest): SendResult {
  const src = stringField(request.fields, "src");
  const dst = stringField(request.fields, "dst");
  const text = stringField(request.fields, "text");

  if (src === undefined || src === "") return rejected(plivoError(400, "src is a required parameter"));
  if (dst === undefined || dst === "") return rejected(plivoError(400, "dst is a required parameter"));
  if (text === undefined || text === "") return rejected(plivoError(400, "text is a required parameter"));

  // Plivo separates several destinations with "<" and returns one message_uuid per destination.
  const recipients: string[] = [];
  for (const destination of dst.split("<")) {
    const to = toE164(destination.trim());
    if (to === undefined) return rejected(plivoError(400, "invalid dst number"));
    const magic = findMagicRecipient(to);
    if (magic !== undefined) return rejected(plivoError(magic.plivo.status, magic.plivo.error));
    recipients.push(to);
  }

  const accepted: AcceptedMessage[] = recipients.map((to) => ({ id: randomUUID(), to, from: src, body: text }));
  return {
    reply: {
      status: 202,
      body: { api_id: randomUUID(), message: "message(s) queued", message_uuid: accepted.map((message) => message.id) },
    },
    accepted,
  };
}

/** Builds Plivo's error body: `{ api_id, error }`. */
function plivoError(status: number, error: string): ProviderReply {
  return { status, body: { api_id: randomUUID(), error } };
}

function rejected(reply: ProviderReply): SendResult {
  return { reply, accepted: [] };
}
