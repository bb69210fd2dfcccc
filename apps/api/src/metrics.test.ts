import { wrongCode } from "@otpin/core/testing";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, test } from "vitest";
import { requestResult, verificationResult } from "./metrics.js";
import { createTestApi, postJson, type TestApi } from "./test-support/test-api.js";

const PHONE_LIKE = /\+?\d{8,15}/;

let apis: TestApi[] = [];

afterEach(async () => {
  await Promise.all(apis.map((api) => api.close()));
  apis = [];
});

async function startApi(env: Record<string, string> = {}): Promise<TestApi> {
  const api = await createTestApi(env);
  apis.push(api);
  return api;
}

async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: "GET", url: "/metrics" });
  expect(response.statusCode).toBe(200);
  expect(response.headers["content-type"]).toContain("text/plain");
  return response.body;
}

/** Value of one sample line, such as `otp_requests_total{channel="sms",result="accepted"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function seriesLines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

/**
 * Series of otpin's own metrics. Node's default metrics gain series when the runtime changes,
 * for example a histogram per garbage collection kind the first time that kind runs, so a
 * count over every line fails on GC timing rather than on label cardinality.
 */
function otpinSeries(text: string): string[] {
  return seriesLines(text).filter((line) => line.startsWith("otp_"));
}

function labelValues(text: string): string[] {
  return [...text.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((match) => match[1] ?? "");
}

async function createVerification(api: TestApi): Promise<{ id: string; code: string }> {
  const response = await postJson(api.app, "/v1/otp", { to: "+15005550006" });
  expect(response.statusCode, response.body).toBe(202);
  const { id } = response.json() as { id: string };
  return { id, code: await api.codeOf(id) };
}

describe("API metrics", () => {
  test("two APIs in one process each serve their own metrics once", async () => {
    const first = await startApi();
    const second = await startApi();

    await postJson(first.app, "/v1/otp", { to: "+15005550006" });
    await postJson(first.app, "/v1/otp", { to: "+15005550006" });
    await postJson(second.app, "/v1/otp", { to: "not a number" });

    const firstText = await scrape(first.app);
    const secondText = await scrape(second.app);
    for (const text of [firstText, secondText]) {
      const helpLines = text.split("\n").filter((line) => line.startsWith("# HELP "));
      expect(new Set(helpLines).size).toBe(helpLines.length);
      expect(text).toContain("# HELP process_cpu_user_seconds_total");
      expect(text).toContain("# HELP nodejs_eventloop_lag_p99_seconds");
    }
    expect(sample(firstText, 'otp_requests_total{channel="sms",result="accepted"}')).toBe(2);
    expect(sample(firstText, 'otp_requests_total{channel="sms",result="invalid"}')).toBeUndefined();
    expect(sample(secondText, 'otp_requests_total{channel="sms",result="accepted"}')).toBe(0);
    expect(sample(secondText, 'otp_requests_total{channel="sms",result="invalid"}')).toBe(1);
  });

  test("counts send results by status code", async () => {
    const api = await startApi();

    await postJson(api.app, "/v1/otp", { to: "+15005550006" });
    await postJson(api.app, "/v1/otp", {});
    await api.app.inject({ method: "POST", url: "/v1/otp", headers: { "content-type": "text/plain" }, payload: "x" });
    await api.app.inject({ method: "GET", url: "/healthz" });

    const text = await scrape(api.app);
    expect(sample(text, 'otp_requests_total{channel="sms",result="accepted"}')).toBe(1);
    expect(sample(text, 'otp_requests_total{channel="sms",result="invalid"}')).toBe(2);
  });

  test("counts verification results", async () => {
    const api = await startApi({ OTP_MAX_VERIFY_ATTEMPTS: "1" });
    const valid = await createVerification(api);
    const locked = await createVerification(api);
    const expired = await createVerification(api);

    await postJson(api.app, `/v1/otp/${valid.id}/verify`, { code: valid.code });
    await postJson(api.app, `/v1/otp/${locked.id}/verify`, { code: wrongCode(locked.code) });
    await postJson(api.app, `/v1/otp/${locked.id}/verify`, { code: locked.code });
    api.advanceClock((api.config.OTP_TTL_SECONDS + 1) * 1000);
    await postJson(api.app, `/v1/otp/${expired.id}/verify`, { code: expired.code });

    const text = await scrape(api.app);
    expect(sample(text, 'otp_verifications_total{result="valid"}')).toBe(1);
    expect(sample(text, 'otp_verifications_total{result="invalid"}')).toBe(1);
    expect(sample(text, 'otp_verifications_total{result="locked"}')).toBe(1);
    expect(sample(text, 'otp_verifications_total{result="expired"}')).toBe(1);
  });

  test("series do not grow with recipients and no label holds a number", async () => {
    const api = await startApi();
    const sendBatch = async (from: number) => {
      for (let index = from; index < from + 100; index += 1) {
        const suffix = String(index).padStart(4, "0");
        // Alternate a valid test number with a malformed one that still looks like a phone number.
        const to = index % 2 === 0 ? `+1500555${suffix}` : `+99955512${suffix}`;
        await postJson(api.app, "/v1/otp", { to, email: `user${suffix}@example.test` });
      }
    };

    await sendBatch(0);
    const afterFirst = otpinSeries(await scrape(api.app)).length;
    await sendBatch(100);
    const text = await scrape(api.app);

    expect(afterFirst).toBeGreaterThan(0);
    expect(otpinSeries(text).length).toBe(afterFirst);
    expect(sample(text, 'otp_requests_total{channel="sms",result="accepted"}')).toBe(100);
    expect(sample(text, 'otp_requests_total{channel="sms",result="invalid"}')).toBe(100);
    expect(labelValues(text).filter((value) => PHONE_LIKE.test(value))).toEqual([]);
  });

  test("serves /metrics without a body or credentials", async () => {
    const api = await startApi();
    const response = await api.app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("# TYPE otp_requests_total counter");
  });
});

describe("result labels", () => {
  test("map send status codes onto a fixed set", () => {
    expect([202, 400, 413, 415, 422, 401, 429, 503, 500].map(requestResult)).toEqual([
      "accepted",
      "invalid",
      "invalid",
      "invalid",
      "invalid",
      "unauthorized",
      "rate_limited",
      "unavailable",
      "error",
    ]);
  });

  test("map verify responses onto a fixed set", () => {
    expect(verificationResult(200, '{"id":"otp_1","valid":true}')).toBe("valid");
    expect(verificationResult(200, '{"id":"otp_1","valid":false,"attemptsRemaining":2}')).toBe("invalid");
    expect(verificationResult(410, "{}")).toBe("expired");
    expect(verificationResult(423, "{}")).toBe("locked");
    expect(verificationResult(404, "{}")).toBe("not_found");
    expect(verificationResult(409, "{}")).toBe("rejected");
    expect(verificationResult(503, "{}")).toBe("unavailable");
  });
});

describe("security and spend counters", () => {
  test("counts a request without a key as blocked unauthorized", async () => {
    const api = await startApi();

    const response = await api.app.inject({
      method: "POST",
      url: "/v1/otp",
      headers: { "content-type": "application/json", authorization: "Bearer wrong" },
      payload: { to: "+15005550006" },
    });

    expect(response.statusCode).toBe(401);
    expect(sample(await scrape(api.app), 'otp_requests_blocked_total{reason="unauthorized"}')).toBe(1);
  });

  test("counts a spent country budget by country", async () => {
    const api = await startApi({ SMS_PRICE_PER_SEGMENT: "*=1", SPEND_BUDGET_PER_HOUR: "US=1,*=100" });

    const first = await postJson(api.app, "/v1/otp", { to: "+14155550100" });
    const second = await postJson(api.app, "/v1/otp", { to: "+14155550101" });

    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(429);
    const text = await scrape(api.app);
    expect(sample(text, 'otp_spend_budget_exceeded_total{country="US"}')).toBe(1);
    expect(sample(text, 'otp_requests_blocked_total{reason="spend_budget"}')).toBe(1);
  });
});
