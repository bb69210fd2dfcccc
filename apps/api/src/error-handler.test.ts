import { LockedError, PayloadError, UnavailableError, ValidationError } from "@otpin/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { toProblem } from "./error-handler.js";
import { createTestApi, postJson, type TestApi } from "./test-support/test-api.js";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi({ BODY_LIMIT_BYTES: "512" });
});

afterAll(async () => {
  await api.close();
});

interface ErrorResponse {
  error: { code: string; message: string; field?: string };
}

describe("error responses", () => {
  test("unknown route returns 404 in the error shape", async () => {
    const response = await api.app.inject({ method: "GET", url: "/v2/nothing?x=1" });

    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: { code: "OTP_ERR_NOT_FOUND", message: expect.stringContaining("route GET /v2/nothing not found") },
    });
  });

  test("wrong method returns 404", async () => {
    const response = await api.app.inject({ method: "DELETE", url: "/v1/otp" });

    expect(response.statusCode).toBe(404);
    expect((response.json() as ErrorResponse).error.code).toBe("OTP_ERR_NOT_FOUND");
  });

  test("body over BODY_LIMIT_BYTES returns 413", async () => {
    const response = await postJson(api.app, "/v1/otp", { to: "+15005550006", locale: "x".repeat(600) });

    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({
      error: { code: "OTP_ERR_BODY_TOO_LARGE", message: "request body is larger than 512 bytes; send a smaller body" },
    });
  });

  test.each([
    ["text/plain", "text/plain"],
    ["form encoding", "application/x-www-form-urlencoded"],
    ["a JSON-like type", "application/merge-patch+json"],
  ])("%s returns 415", async (_name, contentType) => {
    const response = await api.app.inject({
      method: "POST",
      url: "/v1/otp",
      headers: { "content-type": contentType },
      payload: '{"to":"+15005550006"}',
    });

    expect(response.statusCode).toBe(415);
    expect((response.json() as ErrorResponse).error.code).toBe("OTP_ERR_UNSUPPORTED_MEDIA_TYPE");
  });

  test("missing content type returns 415", async () => {
    const response = await api.app.inject({ method: "POST", url: "/v1/otp/otp_000000000000000000000000/verify" });

    expect(response.statusCode).toBe(415);
    expect((response.json() as ErrorResponse).error.code).toBe("OTP_ERR_UNSUPPORTED_MEDIA_TYPE");
  });

  test("JSON with a charset parameter is accepted", async () => {
    const response = await api.app.inject({
      method: "POST",
      url: "/v1/otp",
      headers: { "content-type": "application/json; charset=utf-8" },
      payload: '{"to":"+15005550006"}',
    });

    expect(response.statusCode).toBe(202);
  });

  test.each([
    ["malformed JSON", '{"to": "+1500', "request body is not valid JSON; send a JSON object"],
    ["an empty body", "", "request body is empty; send a JSON object"],
  ])("%s returns 400", async (_name, payload, message) => {
    const response = await api.app.inject({
      method: "POST",
      url: "/v1/otp",
      headers: { "content-type": "application/json" },
      payload,
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: { code: "OTP_ERR_VALIDATION", message } });
  });

  test("__proto__ key returns 400", async () => {
    const response = await api.app.inject({
      method: "POST",
      url: "/v1/otp",
      headers: { "content-type": "application/json" },
      payload: '{"to":"+15005550006","__proto__":{"x":1}}',
    });

    expect(response.statusCode).toBe(400);
    expect((response.json() as ErrorResponse).error.code).toBe("OTP_ERR_VALIDATION");
  });

  test("malformed URL encoding returns 400", async () => {
    const response = await api.app.inject({ method: "GET", url: "/v1/otp/%E0%A4%A" });

    expect(response.statusCode).toBe(400);
    expect((response.json() as ErrorResponse).error.code).toBe("OTP_ERR_VALIDATION");
  });
});

describe("toProblem", () => {
  test.each([
    [
      new ValidationError("to is missing", { field: "to" }),
      400,
      { code: "OTP_ERR_VALIDATION", message: "to is missing", field: "to" },
    ],
    [new LockedError("locked"), 423, { code: "OTP_ERR_LOCKED", message: "locked" }],
    [new UnavailableError("Redis is down"), 503, { code: "OTP_ERR_UNAVAILABLE", message: "Redis is down" }],
    [new PayloadError("key abc unknown"), 500, { code: "OTP_ERR_INTERNAL", message: expect.stringMatching(/^internal error/) }],
    [new TypeError("x is undefined"), 500, { code: "OTP_ERR_INTERNAL", message: expect.stringMatching(/^internal error/) }],
    // ioredis's own errors for a stalled or closed connection, thrown outside withRedisDeadline.
    [new Error("Command timed out"), 503, { code: "OTP_ERR_UNAVAILABLE", message: "Redis did not answer in time; retry later" }],
    [
      new Error("Connection is closed."),
      503,
      { code: "OTP_ERR_UNAVAILABLE", message: "Redis did not answer in time; retry later" },
    ],
  ])("maps %s", (error, statusCode, body) => {
    const result = toProblem(error, 8192);

    expect(result.statusCode).toBe(statusCode);
    expect(result.body.error).toEqual(body);
  });
});
