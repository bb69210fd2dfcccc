import type { ApiConfig } from "@otpin/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ReceiptProvider } from "../webhooks/receipt-provider.js";
import type { ReceiptService } from "../webhooks/receipt-service.js";

export interface WebhookRoutesOptions {
  config: ApiConfig;
  providers: ReadonlyMap<string, ReceiptProvider>;
  receipts: ReceiptService;
}

interface ProviderParams {
  provider: string;
}

/**
 * Registers `GET|POST /v1/webhooks/:provider` for delivery receipts. Signatures are checked against
 * `PUBLIC_BASE_URL` plus the request's path and query, never the Host or X-Forwarded-* headers,
 * so they validate behind a TLS-terminating proxy and cannot be steered by the caller. A provider
 * whose secret is unset, or every provider when PUBLIC_BASE_URL is unset, gets 404.
 */
export async function webhookRoutes(app: FastifyInstance, { config, providers, receipts }: WebhookRoutesOptions): Promise<void> {
  const publicBaseUrl = config.PUBLIC_BASE_URL;
  // Scoped to this plugin: providers post forms, the rest of the API takes JSON only.
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const handler = async (request: FastifyRequest<{ Params: ProviderParams }>, reply: FastifyReply) => {
    const provider = providers.get(request.params.provider);
    if (publicBaseUrl === undefined || provider === undefined) {
      return reply.code(404).send({ error: { code: "OTP_ERR_NOT_FOUND", message: "no webhook is configured at this path" } });
    }
    // Query parameters are part of the signed URL for POSTs; a GET carries the receipt in them.
    const fields = request.method === "GET" ? request.query : request.body;
    const params = toStringFields(isObject(fields) ? fields : {});
    const url = `${publicBaseUrl}${request.url}`;
    const result = await receipts.handle(provider, { url, params, headers: request.headers });
    if (result.httpStatus === 403) {
      return reply
        .code(403)
        .send({ error: { code: "OTP_ERR_UNAUTHORIZED", message: "webhook signature is missing or invalid" } });
    }
    return reply.code(200).send({ received: true });
  };

  app.post<{ Params: ProviderParams }>("/v1/webhooks/:provider", handler);
  // Vonage sends receipts by GET (query parameters) or POST, as the account's webhook method setting chooses.
  app.get<{ Params: ProviderParams }>("/v1/webhooks/:provider", handler);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Flattens parameters to strings, as the providers sign them; nested values are dropped. */
function toStringFields(fields: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "string") result[name] = value;
    else if (typeof value === "number" || typeof value === "boolean") result[name] = String(value);
  }
  return result;
}
