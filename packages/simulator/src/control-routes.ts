import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidBehaviourError, isProviderName, parseBehaviour } from "./behaviour-schema.js";
import { parseBody, RequestBodyError, readBody } from "./body.js";
import type { SimulatorContext } from "./context.js";
import { renderInbox } from "./inbox.js";
import { listReceipts, sendManualReceipt, setReceiptOptions } from "./receipt-control.js";
import { sendHtml, sendJson, sendNoContent } from "./reply.js";
import { type MessageFilter, PROVIDER_NAMES, type ProviderName } from "./types.js";

type ControlHandler = (
  context: SimulatorContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
) => Promise<void> | void;

/** Control and inspection routes by path, then by HTTP method. */
const ROUTES: Readonly<Record<string, Readonly<Record<string, ControlHandler>>>> = {
  "/": { GET: showInbox },
  "/healthz": { GET: (_context, _request, response) => sendJson(response, 200, { status: "ok" }) },
  "/messages": { GET: listMessages, DELETE: clearMessages },
  "/_control": { GET: showBehaviours, DELETE: clearBehaviours },
  "/_control/receipts": { GET: listReceipts, PUT: setReceiptOptions },
  "/_control/receipt": { POST: sendManualReceipt },
};

const PROVIDER_CONTROL_PATH = /^\/_control\/([^/]+)$/;

/**
 * Handles a control or inspection request. Returns false when no route has the path, so the
 * caller responds 404. A known path with another method gets 405.
 */
export async function handleControlRequest(
  context: SimulatorContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<boolean> {
  const providerMatch = PROVIDER_CONTROL_PATH.exec(url.pathname);
  const methods = ROUTES[url.pathname] ?? (providerMatch === null ? undefined : { PUT: setBehaviour });
  if (methods === undefined) return false;

  const handler = methods[request.method ?? "GET"];
  if (handler === undefined) {
    const allowed = Object.keys(methods).join(", ");
    sendJson(
      response,
      405,
      { error: `method ${request.method} is not allowed on ${url.pathname}; use ${allowed}` },
      { allow: allowed },
    );
    return true;
  }
  await handler(context, request, response, url);
  return true;
}

function showInbox(context: SimulatorContext, _request: IncomingMessage, response: ServerResponse): void {
  sendHtml(response, 200, renderInbox(context.store.list()));
}

function listMessages(context: SimulatorContext, _request: IncomingMessage, response: ServerResponse, url: URL): void {
  const filter: MessageFilter = {};
  const to = url.searchParams.get("to");
  const provider = url.searchParams.get("provider");
  if (to !== null && to !== "") filter.to = to;
  if (provider !== null && provider !== "") {
    if (!isProviderName(provider)) {
      sendJson(response, 400, { error: `provider "${provider}" is unknown; use one of ${PROVIDER_NAMES.join(", ")}` });
      return;
    }
    filter.provider = provider;
  }
  sendJson(response, 200, { messages: context.store.list(filter) });
}

function clearMessages(context: SimulatorContext, _request: IncomingMessage, response: ServerResponse): void {
  context.store.clearMessages();
  sendNoContent(response);
}

function showBehaviours(context: SimulatorContext, _request: IncomingMessage, response: ServerResponse): void {
  const requestCounts = Object.fromEntries(PROVIDER_NAMES.map((provider) => [provider, context.store.requestCount(provider)]));
  sendJson(response, 200, { behaviours: context.behaviours.snapshot(), requestCounts });
}

function clearBehaviours(context: SimulatorContext, _request: IncomingMessage, response: ServerResponse): void {
  context.behaviours.clear();
  sendNoContent(response);
}

async function setBehaviour(
  context: SimulatorContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const provider = decodeURIComponent(url.pathname.slice("/_control/".length));
  if (!isProviderName(provider)) {
    request.resume();
    sendJson(response, 404, { error: `provider "${provider}" is unknown; use one of ${PROVIDER_NAMES.join(", ")}` });
    return;
  }
  try {
    const fields = parseBody("application/json", await readBody(request));
    context.behaviours.set(provider as ProviderName, parseBehaviour(fields));
    sendNoContent(response);
  } catch (error) {
    if (error instanceof RequestBodyError) sendJson(response, error.status, { error: error.message });
    else if (error instanceof InvalidBehaviourError) sendJson(response, 400, { error: error.message });
    else throw error;
  }
}
