import { setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BehaviourBook } from "./behaviour.js";
import type { SimulatorContext, SimulatorLogger } from "./context.js";
import { handleControlRequest } from "./control-routes.js";
import { type CredentialOverrides, resolveCredentials } from "./credentials.js";
import { MessageStore } from "./message-store.js";
import { createPlivoApi } from "./plivo.js";
import { handleProviderRequest } from "./provider-route.js";
import {
  DEFAULT_RECEIPT_DELAY_MS,
  type ManualReceipt,
  type ReceiptOptions,
  ReceiptSender,
  type SentReceipt,
} from "./receipt-sender.js";
import { sendJson } from "./reply.js";
import { createTwilioApi } from "./twilio.js";
import {
  type MessageFilter,
  PROVIDER_NAMES,
  type ProviderBehaviour,
  type ProviderName,
  type RecordedRequest,
  type SimulatedMessage,
} from "./types.js";
import { createVonageApi } from "./vonage.js";

/** Settings of `startSimulator`. */
export interface SimulatorOptions {
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** TCP port; 0 (the default) picks a free port. */
  port?: number;
  /** Credentials to accept in place of `SIMULATOR_CREDENTIALS`, per provider. */
  credentials?: CredentialOverrides;
  /** Behaviour of each provider at start. */
  behaviour?: Partial<Record<ProviderName, ProviderBehaviour>>;
  /** Source of numbers in [0, 1) for `errorRate`; `Math.random` by default. See `seededRandom`. */
  random?: () => number;
  /** Receives one debug line per provider response and one error line per failed request; silent when unset. */
  logger?: SimulatorLogger;
  /** Wait before each delivery receipt, in milliseconds; 200 by default. */
  receiptDelayMs?: number;
  /** Origin to origin: receipts for callback URLs on the first are sent to the second, signed for the first. */
  receiptRedirects?: Record<string, string>;
  /** How Vonage receipts are sent; GET with query parameters by default. */
  vonageReceiptMethod?: ReceiptOptions["vonageMethod"];
}

/** Running simulator. */
export interface Simulator {
  /** Base URL, such as http://127.0.0.1:41234. */
  url: string;
  /** Returns the accepted messages that match, oldest first. */
  messages(filter?: MessageFilter): SimulatedMessage[];
  /** Returns the number of API requests received, accepted or not, by one provider or by all. */
  requestCount(provider?: ProviderName): number;
  /** Returns every API request received, accepted or not, with its recipient and text. */
  requests(provider?: ProviderName): RecordedRequest[];
  /** Replaces the behaviour of one provider. */
  setBehaviour(provider: ProviderName, behaviour: ProviderBehaviour): void;
  /** Clears behaviours, messages, request counters and sent receipts. */
  reset(): void;
  /** Returns the delivery receipts sent so far, oldest first, with the answers they got. */
  receipts(): SentReceipt[];
  /** Changes the receipt delay, redirects or Vonage method. */
  setReceiptOptions(options: Partial<ReceiptOptions>): void;
  /** Sends one signed receipt now, for late, duplicate or out-of-order receipt tests. */
  sendReceipt(receipt: ManualReceipt): Promise<SentReceipt>;
  /**
   * Resolves with the first accepted message that matches, already received or still to come.
   * Rejects after `timeoutMs` (5000 by default) without one.
   */
  waitForMessage(filter: MessageFilter, timeoutMs?: number): Promise<SimulatedMessage>;
  /** Stops listening and ends every open connection, hanging ones included. */
  close(): Promise<void>;
}

/** Starts a simulator that speaks the Twilio, Plivo and Vonage SMS APIs over HTTP. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const credentials = resolveCredentials(options.credentials);
  const shutdown = new AbortController();
  // Every pending response delay and receipt listens on this one signal, so under load there are
  // more listeners than Node's warning threshold of 10.
  setMaxListeners(0, shutdown.signal);
  const context: SimulatorContext = {
    store: new MessageStore(),
    behaviours: new BehaviourBook(options.random ?? Math.random),
    apis: [createTwilioApi(credentials.twilio), createPlivoApi(credentials.plivo), createVonageApi(credentials.vonage)],
    shutdown: shutdown.signal,
    logger: options.logger,
    receipts: new ReceiptSender(
      credentials,
      {
        delayMs: options.receiptDelayMs ?? DEFAULT_RECEIPT_DELAY_MS,
        redirects: { ...options.receiptRedirects },
        vonageMethod: options.vonageReceiptMethod ?? "GET",
      },
      shutdown.signal,
      options.logger,
    ),
  };
  applyBehaviours(context, options.behaviour ?? {});

  const server = createServer((request, response) => {
    handleRequest(context, request, response).catch((error: unknown) => {
      context.logger?.error({ err: error, method: request.method }, "simulator request failed");
      sendJson(response, 500, { error: "simulator request failed" });
    });
  });
  const address = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${address.port}`,
    messages: (filter) => context.store.list(filter),
    requestCount: (provider) => context.store.requestCount(provider),
    requests: (provider) => context.store.requests(provider),
    setBehaviour: (provider, behaviour) => context.behaviours.set(provider, behaviour),
    reset() {
      context.behaviours.clear();
      context.store.clearMessages();
      context.store.clearCounts();
      context.receipts.clear();
    },
    receipts: () => context.receipts.list(),
    setReceiptOptions: (receiptOptions) => context.receipts.setOptions(receiptOptions),
    sendReceipt: (receipt) => context.receipts.send(receipt),
    waitForMessage: (filter, timeoutMs) => context.store.waitFor(filter, timeoutMs),
    close() {
      closing ??= closeServer(server, context, shutdown);
      return closing;
    },
  };
}

function applyBehaviours(context: SimulatorContext, behaviours: Partial<Record<ProviderName, ProviderBehaviour>>): void {
  for (const provider of PROVIDER_NAMES) {
    const behaviour = behaviours[provider];
    if (behaviour !== undefined) context.behaviours.set(provider, behaviour);
  }
}

async function handleRequest(context: SimulatorContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://simulator.invalid");

  for (const api of context.apis) {
    const params = api.matchPath(url.pathname);
    if (params === undefined) continue;
    if (request.method !== "POST") {
      request.resume();
      sendJson(
        response,
        405,
        { error: `method ${request.method} is not allowed on ${url.pathname}; use POST` },
        { allow: "POST" },
      );
      return;
    }
    await handleProviderRequest(context, api, params, request, response, url);
    return;
  }

  if (await handleControlRequest(context, request, response, url)) return;
  request.resume();
  sendJson(response, 404, { error: `no route for ${request.method} ${url.pathname}` });
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: Server, context: SimulatorContext, shutdown: AbortController): Promise<void> {
  shutdown.abort();
  context.store.rejectAll("simulator closed before a matching message arrived");
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    // Hanging requests never end on their own, so close() ends every connection instead of waiting.
    server.closeAllConnections();
  });
}
