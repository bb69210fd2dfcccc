import type { ApiConfig } from "@otpin/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendProblem, unsupportedMediaType } from "../error-handler.js";
import { type OtpService, requireOtpId } from "../otp-service.js";
import { parseBody, sendOtpBodySchema, verifyOtpBodySchema } from "../schemas.js";
import { type IdempotencyStore, readIdempotencyKey } from "../security/idempotency.js";

export interface OtpRoutesOptions {
  service: OtpService;
  config: ApiConfig;
  /** Replays answers to repeated `Idempotency-Key` requests. */
  idempotency: IdempotencyStore;
}

interface IdParams {
  id: string;
}

/** Registers `POST /v1/otp`, `POST /v1/otp/:id/verify` and `GET /v1/otp/:id`. */
export async function otpRoutes(app: FastifyInstance, { service, config, idempotency }: OtpRoutesOptions): Promise<void> {
  const verifySchema = verifyOtpBodySchema(config.OTP_LENGTH);

  // Status and verification results must not be cached by proxies or browsers.
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("cache-control", "no-store");
    return payload;
  });

  app.post("/v1/otp", { onRequest: requireJson }, async (request, reply) => {
    const body = parseBody(sendOtpBodySchema, request.body);
    const key = readIdempotencyKey(request.headers["idempotency-key"]);
    const context = { apiKeyName: request.apiKeyName, clientIp: body.clientIp ?? request.ip };
    const { value: created, replayed } = await idempotency.run(request.apiKeyName, key, body, () =>
      service.create(body, context),
    );
    if (replayed) reply.header("idempotent-replayed", "true");
    return reply.code(202).header("location", `/v1/otp/${created.id}`).send(created);
  });

  app.post<{ Params: IdParams }>("/v1/otp/:id/verify", { onRequest: requireJson }, async (request) => {
    const { id } = request.params;
    requireOtpId(id);
    const { code } = parseBody(verifySchema, request.body);
    const result = await service.verify(id, code);
    return { id, ...result };
  });

  app.get<{ Params: IdParams }>("/v1/otp/:id", async (request) => service.status(request.params.id));
}

/** Rejects a POST whose Content-Type is not application/json before its body is read. */
async function requireJson(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const mediaType = request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (mediaType === "application/json") return undefined;
  // fastify requires an async hook that sends a response to return the reply.
  return sendProblem(reply, unsupportedMediaType());
}
