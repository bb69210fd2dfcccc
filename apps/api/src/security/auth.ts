import { UnauthorizedError } from "@otpin/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiKeyRing } from "./api-keys.js";
import type { SecurityEvents } from "./security-events.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Name of the API key that authenticated the request (never the key); empty on public routes. */
    apiKeyName: string;
  }
}

/** `WWW-Authenticate` challenge sent with every 401. */
export const AUTH_CHALLENGE = 'Bearer realm="otpin"';

const PUBLIC_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
// Delivery receipts come from providers, which prove themselves with their own signatures.
const PUBLIC_PREFIXES = ["/v1/webhooks/"];

/** Tells whether a path is served without an API key: health, readiness, metrics and provider webhooks. */
export function isPublicPath(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return PUBLIC_PATHS.has(path) || PUBLIC_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/**
 * Requires `Authorization: Bearer <key>` on every route except the public ones, unknown routes
 * included, so an unauthenticated caller learns nothing about which routes exist.
 */
export function registerApiKeyAuth(app: FastifyInstance, keys: ApiKeyRing, events: SecurityEvents): void {
  app.decorateRequest("apiKeyName", "");
  app.addHook("onRequest", async (request) => {
    if (isPublicPath(request.url)) return;
    const name = authenticate(request, keys);
    if (name === undefined) {
      events.blocked("unauthorized");
      throw new UnauthorizedError(
        "missing or unknown API key: send Authorization: Bearer <key> with a key listed (as its SHA-256) in API_KEYS",
      );
    }
    request.apiKeyName = name;
  });
}

function authenticate(request: FastifyRequest, keys: ApiKeyRing): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^Bearer[ ]+(\S{1,512})\s*$/i.exec(header);
  return match?.[1] === undefined ? undefined : keys.identify(match[1]);
}
