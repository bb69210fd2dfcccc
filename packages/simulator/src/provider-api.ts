import type { IncomingHttpHeaders } from "node:http";
import type { RequestFields } from "./body.js";
import type { ProviderName, SimulatedFailure } from "./types.js";

/** HTTP status and JSON body of one simulated provider response. */
export interface ProviderReply {
  status: number;
  body: unknown;
}

/** Provider API request after routing and body parsing. */
export interface ProviderRequest {
  /** Path segments captured by the route, such as the account id. */
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  fields: RequestFields;
}

/** Message accepted by a provider route, before the simulator stamps the provider and time. */
export interface AcceptedMessage {
  id: string;
  /** E.164 with the leading `+`. */
  to: string;
  from: string;
  body: string;
}

/** Response to a send request, with the messages it accepted (none when it rejects). */
export interface SendResult {
  reply: ProviderReply;
  accepted: AcceptedMessage[];
}

/** One provider's message-sending API in that provider's wire format. */
export interface ProviderApi {
  readonly name: ProviderName;
  /** Returns the captured path parameters when `pathname` is this provider's send endpoint. */
  matchPath(pathname: string): Record<string, string> | undefined;
  isAuthorized(request: ProviderRequest): boolean;
  send(request: ProviderRequest): SendResult;
  authFailure(): ProviderReply;
  throttled(): ProviderReply;
  failure(failure: SimulatedFailure): ProviderReply;
  /** Builds the response to a request that the simulator cannot read, such as malformed JSON (400) or a too-large body (413). */
  badRequest(status: number, message: string): ProviderReply;
}
