import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { parseBody, RequestBodyError, type RequestFields, readBody } from "./body.js";
import type { SimulatorContext } from "./context.js";
import type { ProviderApi, ProviderReply, ProviderRequest } from "./provider-api.js";
import { sendJson } from "./reply.js";
import type { ProviderName, RecordedRequest } from "./types.js";

/**
 * Handles one provider API request. The steps run in this order: count the request, read the
 * body, apply `mode` and `latencyMs`, check credentials, apply `throttleNext` and `failure`,
 * then validate and accept the message. Requests with bad credentials therefore never consume
 * `failNext` or `throttleNext`.
 */
export async function handleProviderRequest(
  context: SimulatorContext,
  api: ProviderApi,
  params: Record<string, string>,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  context.store.countRequest(api.name);
  const fields = await readFields(request);
  if (fields instanceof RequestBodyError) {
    reply(context, api, response, api.badRequest(fields.status, fields.message));
    return;
  }
  context.store.recordRequest(describeRequest(api.name, fields));

  const behaviour = context.behaviours.get(api.name);
  // A hanging request stays open until the client gives up or close() ends the connection.
  if (behaviour.mode === "hang") return;
  if (behaviour.mode === "reset") {
    request.socket.destroy();
    return;
  }
  if ((behaviour.latencyMs ?? 0) > 0 && !(await waitLatency(context, behaviour.latencyMs ?? 0))) return;

  const providerRequest: ProviderRequest = { params, headers: request.headers, query: url.searchParams, fields };
  reply(context, api, response, decideReply(context, api, providerRequest));
}

async function readFields(request: IncomingMessage): Promise<RequestFields | RequestBodyError> {
  try {
    return parseBody(request.headers["content-type"], await readBody(request));
  } catch (error) {
    if (error instanceof RequestBodyError) return error;
    throw error;
  }
}

/** Waits out the scripted latency; returns false when the simulator closed meanwhile. */
async function waitLatency(context: SimulatorContext, latencyMs: number): Promise<boolean> {
  try {
    await delay(latencyMs, undefined, { signal: context.shutdown });
    return true;
  } catch (error) {
    if (context.shutdown.aborted) return false;
    throw error;
  }
}

function decideReply(context: SimulatorContext, api: ProviderApi, request: ProviderRequest): ProviderReply {
  if (!api.isAuthorized(request)) return api.authFailure();

  const verdict = context.behaviours.nextVerdict(api.name);
  if (verdict.kind === "throttle") return api.throttled();
  if (verdict.kind === "fail") return api.failure(verdict.failure);

  const result = api.send(request);
  const receivedAt = new Date().toISOString();
  for (const message of result.accepted) {
    context.store.add({ ...message, provider: api.name, receivedAt });
    context.receipts.schedule(api.name, message, request.fields);
  }
  return result.reply;
}

function reply(context: SimulatorContext, api: ProviderApi, response: ServerResponse, providerReply: ProviderReply): void {
  context.logger?.debug({ provider: api.name, status: providerReply.status }, "provider request handled");
  // The client may still be sending the rejected body, so the connection is not reused.
  const headers: Record<string, string> = providerReply.status === 413 ? { connection: "close" } : {};
  sendJson(response, providerReply.status, providerReply.body, headers);
}

// Field names of the recipient and the text in each provider's send request.
const REQUEST_FIELDS: Record<ProviderName, { to: string; body: string }> = {
  twilio: { to: "To", body: "Body" },
  plivo: { to: "dst", body: "text" },
  vonage: { to: "to", body: "text" },
};

function describeRequest(provider: ProviderName, fields: RequestFields): RecordedRequest {
  const names = REQUEST_FIELDS[provider];
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  return { provider, to: text(fields[names.to]), body: text(fields[names.body]), receivedAt: new Date().toISOString() };
}
