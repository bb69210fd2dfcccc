import { isOtpError, type OtpErrorCode, RateLimitedError, UnauthorizedError } from "@otpin/core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isRedisUnavailableError } from "./redis-guard.js";

/** Codes in API error bodies. */
export type ApiErrorCode = OtpErrorCode;

/** Body of every error response. */
export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; field?: string; limit?: string; retryAfterSeconds?: number };
}

/** An error response: status code and body. */
export interface ApiProblem {
  statusCode: number;
  body: ErrorBody;
}

const ROUTES_HINT =
  "the routes are POST /v1/otp, POST /v1/otp/:id/verify, GET /v1/otp/:id, GET /healthz, GET /readyz, GET /metrics and the receipt webhooks under /v1/webhooks/";
const MAX_ECHOED_PATH = 200;

const INTERNAL_MESSAGE = "internal error; the request was not completed, retry later";

/** Builds an error response body, leaving `field` out when there is none. */
export function errorBody(code: ApiErrorCode, message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

/**
 * Maps any thrown value to an error response: OtpErrors by their httpStatus and code, fastify's
 * own client errors (bad JSON, body too large, wrong content type) to 4xx, and everything else to
 * a 500 with a generic message.
 */
export function toProblem(error: unknown, bodyLimit: number): ApiProblem {
  if (isOtpError(error)) {
    if (error.httpStatus >= 500 && error.code !== "OTP_ERR_UNAVAILABLE") return internalProblem();
    if (error instanceof RateLimitedError) {
      // The body names the limit, so a caller can tell a per-number cooldown from a spent budget.
      const body = errorBody(error.code, error.message, error.field);
      return {
        statusCode: error.httpStatus,
        body: { error: { ...body.error, limit: error.limit, retryAfterSeconds: error.retryAfterSeconds } },
      };
    }
    return { statusCode: error.httpStatus, body: errorBody(error.code, error.message, error.field) };
  }
  // A Redis command that timed out or found the connection closed outside withRedisDeadline is
  // still an outage, not a bug: the caller should retry.
  if (isRedisUnavailableError(error)) {
    return problem(503, "OTP_ERR_UNAVAILABLE", "Redis did not answer in time; retry later");
  }
  return fastifyProblem(error as Partial<FastifyError>, bodyLimit) ?? internalProblem();
}

function fastifyProblem(error: Partial<FastifyError>, bodyLimit: number): ApiProblem | undefined {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return problem(413, "OTP_ERR_BODY_TOO_LARGE", `request body is larger than ${bodyLimit} bytes; send a smaller body`);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return unsupportedMediaType();
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return problem(400, "OTP_ERR_VALIDATION", "request body is empty; send a JSON object");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return problem(400, "OTP_ERR_VALIDATION", "request body is not valid JSON; send a JSON object");
  }
  const statusCode = error.statusCode;
  if (statusCode === undefined || statusCode < 400 || statusCode >= 500) return undefined;
  if (statusCode === 404) return problem(404, "OTP_ERR_NOT_FOUND", error.message ?? "not found");
  // Other framework client errors (invalid Content-Length, forbidden __proto__ keys, bad URL encoding).
  return problem(statusCode, "OTP_ERR_VALIDATION", `invalid request: ${error.message ?? "rejected by the HTTP layer"}`);
}

/** Builds the 415 response for a POST whose Content-Type is not application/json. */
export function unsupportedMediaType(): ApiProblem {
  return problem(
    415,
    "OTP_ERR_UNSUPPORTED_MEDIA_TYPE",
    "Content-Type must be application/json; send the body as JSON with that header",
  );
}

function problem(statusCode: number, code: ApiErrorCode, message: string): ApiProblem {
  return { statusCode, body: errorBody(code, message) };
}

function internalProblem(): ApiProblem {
  return problem(500, "OTP_ERR_INTERNAL", INTERNAL_MESSAGE);
}

/** Sends an error response. */
export function sendProblem(reply: FastifyReply, { statusCode, body }: ApiProblem): FastifyReply {
  return reply.code(statusCode).send(body);
}

/**
 * Installs the error, not-found and framework-error handlers so every error, including
 * fastify's own, responds with an ErrorBody.
 */
export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const result = toProblem(error, bodyLimit);
    if (error instanceof RateLimitedError) void reply.header("retry-after", String(error.retryAfterSeconds));
    if (error instanceof UnauthorizedError) void reply.header("www-authenticate", 'Bearer realm="otpin"');
    if (result.statusCode === 500) request.log.error({ err: error }, "request failed");
    else if (result.statusCode >= 500) request.log.warn({ err: error }, "request failed; dependency unavailable");
    return sendProblem(reply, result);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, "OTP_ERR_NOT_FOUND", `route ${request.method} ${routePath(request.url)} not found; ${ROUTES_HINT}`),
    ),
  );
}

function routePath(url: string): string {
  const path = url.split("?")[0] ?? "";
  return path.length > MAX_ECHOED_PATH ? `${path.slice(0, MAX_ECHOED_PATH)}...` : path;
}

/** fastify's `frameworkErrors` option: errors raised before routing, such as a malformed URL. */
export function handleFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const result = toProblem(error, 0);
  void sendProblem(reply, result.statusCode >= 500 ? problem(400, "OTP_ERR_VALIDATION", "invalid request URL") : result);
}
