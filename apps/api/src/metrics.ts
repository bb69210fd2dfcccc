import { METRIC_NAMES } from "@otpin/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Counter, collectDefaultMetrics, Registry } from "prom-client";
import type { SecurityEvents } from "./security/security-events.js";
import type { ReceiptEvents } from "./webhooks/receipt-events.js";

/** `result` label of `otp_requests_total`, derived from the status code of `POST /v1/otp`. */
export type RequestResult = "accepted" | "invalid" | "rate_limited" | "unauthorized" | "unavailable" | "error";

/** `result` label of `otp_verifications_total`, derived from the verify route's response. */
export type VerificationResult = "valid" | "invalid" | "expired" | "locked" | "not_found" | "rejected" | "unavailable" | "error";

/** The API's Prometheus metrics, all registered in one registry per API instance. */
export interface ApiMetrics {
  readonly registry: Registry;
  /** `otp_requests_total{channel, result}`: one per `POST /v1/otp` response. */
  readonly requests: Counter<"channel" | "result">;
  /** `otp_verifications_total{result}`: one per `POST /v1/otp/:id/verify` response. */
  readonly verifications: Counter<"result">;
  /** `otp_requests_blocked_total{reason}`: sends rejected by an abuse control; `reason` must be a bounded set. */
  readonly requestsBlocked: Counter<"reason">;
  /** `otp_delivery_receipts_total{provider, outcome}`: delivery receipts (webhooks) received from providers. */
  readonly deliveryReceipts: Counter<"provider" | "outcome">;
  /** `otp_spend_budget_exceeded_total{country}`: sends rejected because a country's hourly spend budget ran out. */
  readonly spendBudgetExceeded: Counter<"country">;
}

declare module "fastify" {
  interface FastifyInstance {
    /** The API's metrics, for routes and hooks that count events of their own. */
    otpMetrics: ApiMetrics;
  }
}

const SEND_ROUTE = "/v1/otp";
const VERIFY_ROUTE = "/v1/otp/:id/verify";
/** Every send is SMS-first; a later email fallback shows in `otp_email_fallbacks_total`. */
const SEND_CHANNEL = "sms";
const DEFAULT_METRIC_PROBE = "process_cpu_user_seconds_total";

/**
 * Registers the API's metrics in `registry`, plus the default Node.js metrics unless the
 * registry already has them. Nothing is registered globally, so two APIs in one process each
 * report only their own requests.
 */
export function createApiMetrics(registry: Registry = new Registry()): ApiMetrics {
  if (registry.getSingleMetric(DEFAULT_METRIC_PROBE) === undefined) collectDefaultMetrics({ register: registry });
  const metrics: ApiMetrics = {
    registry,
    requests: new Counter({
      name: METRIC_NAMES.requests,
      help: "Responses to POST /v1/otp, by channel and result.",
      labelNames: ["channel", "result"],
      registers: [registry],
    }),
    verifications: new Counter({
      name: METRIC_NAMES.verifications,
      help: "Responses to POST /v1/otp/:id/verify, by result.",
      labelNames: ["result"],
      registers: [registry],
    }),
    requestsBlocked: new Counter({
      name: METRIC_NAMES.requestsBlocked,
      help: "OTP send requests rejected by an abuse control, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    deliveryReceipts: new Counter({
      name: METRIC_NAMES.deliveryReceipts,
      help: "Delivery receipts received from SMS providers, by provider and outcome.",
      labelNames: ["provider", "outcome"],
      registers: [registry],
    }),
    spendBudgetExceeded: new Counter({
      name: METRIC_NAMES.spendBudgetExceeded,
      help: "OTP send requests rejected because the destination country's hourly spend budget ran out, by country.",
      labelNames: ["country"],
      registers: [registry],
    }),
  };
  // Zero series from the start, so rate() and the conversion ratio have data before the first event.
  metrics.requests.inc({ channel: SEND_CHANNEL, result: "accepted" }, 0);
  metrics.verifications.inc({ result: "valid" }, 0);
  return metrics;
}

/** Maps the status code of `POST /v1/otp` onto `otp_requests_total`'s `result` label. */
export function requestResult(statusCode: number): RequestResult {
  if (statusCode === 202) return "accepted";
  if (statusCode === 401 || statusCode === 403) return "unauthorized";
  if (statusCode === 429) return "rate_limited";
  if (statusCode === 503) return "unavailable";
  if (statusCode >= 400 && statusCode < 500) return "invalid";
  return "error";
}

/** Maps the verify route's status code and JSON body onto `otp_verifications_total`'s `result` label. */
export function verificationResult(statusCode: number, payload: unknown): VerificationResult {
  if (statusCode === 200) return readValid(payload) ? "valid" : "invalid";
  if (statusCode === 410) return "expired";
  if (statusCode === 423) return "locked";
  if (statusCode === 404) return "not_found";
  if (statusCode === 503) return "unavailable";
  if (statusCode >= 400 && statusCode < 500) return "rejected";
  return "error";
}

function readValid(payload: unknown): boolean {
  if (typeof payload !== "string") return false;
  try {
    const body: unknown = JSON.parse(payload);
    return typeof body === "object" && body !== null && (body as { valid?: unknown }).valid === true;
  } catch {
    return false;
  }
}

/**
 * Counts send and verify responses with root-level hooks, serves `GET /metrics` without
 * authentication and decorates the app with `otpMetrics`. Call it before registering routes,
 * so its hooks apply to them.
 */
export function registerApiMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.decorate("otpMetrics", metrics);

  app.addHook("onResponse", async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== "POST" || request.routeOptions.url !== SEND_ROUTE) return;
    metrics.requests.inc({ channel: SEND_CHANNEL, result: requestResult(reply.statusCode) });
  });

  // onSend receives the serialized body, which distinguishes a valid code from a wrong one.
  app.addHook("onSend", async (request, reply, payload) => {
    if (request.method === "POST" && request.routeOptions.url === VERIFY_ROUTE) {
      metrics.verifications.inc({ result: verificationResult(reply.statusCode, payload) });
    }
    return payload;
  });

  app.get("/metrics", async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).header("cache-control", "no-store").send(body);
  });
}

const COUNTRY_LABEL = /^[A-Z]{2}$/;
const RECEIPT_PROVIDERS: ReadonlySet<string> = new Set(["twilio", "plivo", "vonage"]);

/**
 * Returns security hooks that count into the API's metrics and then call `extra`, if given. Country
 * labels are ISO 3166 alpha-2 codes or `other`, so the series count stays bounded.
 */
export function metricsSecurityEvents(metrics: ApiMetrics, extra?: SecurityEvents): SecurityEvents {
  return {
    blocked(reason) {
      metrics.requestsBlocked.inc({ reason });
      extra?.blocked(reason);
    },
    spendBudgetExceeded(country) {
      metrics.spendBudgetExceeded.inc({ country: COUNTRY_LABEL.test(country) ? country : "other" });
      extra?.spendBudgetExceeded(country);
    },
  };
}

/** Returns receipt hooks that count into the API's metrics and then call `extra`, if given. */
export function metricsReceiptEvents(metrics: ApiMetrics, extra?: ReceiptEvents): ReceiptEvents {
  return {
    receipt(provider, outcome) {
      metrics.deliveryReceipts.inc({ provider: RECEIPT_PROVIDERS.has(provider) ? provider : "other", outcome });
      extra?.receipt(provider, outcome);
    },
  };
}
