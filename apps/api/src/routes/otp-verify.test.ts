import { wrongCode } from "@otpin/core/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestApi, postJson, type TestApi } from "../test-support/test-api.js";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi();
});

afterAll(async () => {
  await api.close();
});

/** Creates a verification and returns its id and the code the worker would send. */
async function createVerification(): Promise<{ id: string; code: string }> {
  const response = await postJson(api.app, "/v1/otp", { to: "+15005550006" });
  expect(response.statusCode, response.body).toBe(202);
  const { id } = response.json() as { id: string };
  return { id, code: await api.codeOf(id) };
}

function verify(id: string, code: unknown) {
  return postJson(api.app, `/v1/otp/${id}/verify`, { code });
}

describe("POST /v1/otp/:id/verify", () => {
  test("accepts the right code once", async () => {
    const { id, code } = await createVerification();

    const first = await verify(id, code);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ id, valid: true });

    const again = await verify(id, code);
    expect(again.statusCode).toBe(409);
    expect((again.json() as { error: { code: string } }).error.code).toBe("OTP_ERR_ALREADY_VERIFIED");

    const status = await api.app.inject({ method: "GET", url: `/v1/otp/${id}` });
    expect((status.json() as { status: string }).status).toBe("verified");
  });

  test("counts down attempts on wrong codes", async () => {
    const { id, code } = await createVerification();
    const max = api.config.OTP_MAX_VERIFY_ATTEMPTS;

    const first = await verify(id, wrongCode(code));
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ id, valid: false, attemptsRemaining: max - 1 });

    const second = await verify(id, wrongCode(code));
    expect(second.json()).toEqual({ id, valid: false, attemptsRemaining: max - 2 });

    const right = await verify(id, code);
    expect(right.json()).toEqual({ id, valid: true });
  });

  test("locks after the maximum wrong codes", async () => {
    const { id, code } = await createVerification();
    const max = api.config.OTP_MAX_VERIFY_ATTEMPTS;

    for (let attempt = 1; attempt <= max; attempt += 1) {
      const response = await verify(id, wrongCode(code));
      expect(response.json()).toEqual({ id, valid: false, attemptsRemaining: max - attempt });
    }
    const locked = await verify(id, code);

    expect(locked.statusCode).toBe(423);
    expect((locked.json() as { error: { code: string } }).error.code).toBe("OTP_ERR_LOCKED");
  });

  test("rejects a code after expiry with 410", async () => {
    const { id, code } = await createVerification();
    api.advanceClock(api.config.OTP_TTL_SECONDS * 1000 + 1000);
    try {
      const response = await verify(id, code);

      expect(response.statusCode).toBe(410);
      expect((response.json() as { error: { code: string } }).error.code).toBe("OTP_ERR_EXPIRED");
    } finally {
      api.advanceClock(-(api.config.OTP_TTL_SECONDS * 1000 + 1000));
    }
  });

  test("rejects a code when expiresAt in Redis has passed", async () => {
    const { id, code } = await createVerification();
    await api.store.transition(id, "sent", { expiresAt: Date.now() - 1000 });

    const response = await verify(id, code);

    expect(response.statusCode).toBe(410);
  });

  test("returns 409 when delivery failed", async () => {
    const { id, code } = await createVerification();
    await api.store.transition(id, "failed", { reason: "all providers failed" });

    const response = await verify(id, code);

    expect(response.statusCode).toBe(409);
    expect((response.json() as { error: { code: string } }).error.code).toBe("OTP_ERR_NOT_DELIVERED");
  });

  test.each([
    ["timeout", "a provider that did not answer in time"],
    ["unknown", "a connection that broke after the request went out"],
  ])("still checks the code after a failed attempt of class %s (%s)", async (errorClass) => {
    const { id, code } = await createVerification();
    await api.store.appendAttempt(id, {
      provider: "twilio",
      outcome: "failed",
      errorClass,
      latencyMs: 5000,
      at: new Date().toISOString(),
    });
    await api.store.transition(id, "failed", { reason: `${errorClass}: twilio` });

    const response = await verify(id, code);

    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ id, valid: true });
  });

  test("returns 409 when every attempt was refused outright", async () => {
    const { id, code } = await createVerification();
    const at = new Date().toISOString();
    await api.store.appendAttempt(id, {
      provider: "twilio",
      outcome: "failed",
      errorClass: "provider_unavailable",
      latencyMs: 9,
      at,
    });
    await api.store.appendAttempt(id, { provider: "plivo", outcome: "failed", errorClass: "auth", latencyMs: 9, at });
    await api.store.transition(id, "failed", { reason: "provider_unavailable: twilio; auth: plivo" });

    expect((await verify(id, code)).json()).toMatchObject({ error: { code: "OTP_ERR_NOT_DELIVERED" } });
  });

  test("accepts exactly one of two simultaneous right codes", async () => {
    const { id, code } = await createVerification();

    const responses = await Promise.all([verify(id, code), verify(id, code)]);
    const statuses = responses.map((response) => response.statusCode).sort();

    expect(statuses).toEqual([200, 409]);
    const valid = responses.filter((response) => response.statusCode === 200).map((response) => response.json());
    expect(valid).toEqual([{ id, valid: true }]);
  });

  test.each([
    ["too short", "123"],
    ["too long", "1234567"],
    ["letters", "12345a"],
    ["a number", 123456],
    ["missing", undefined],
  ])("rejects a code that is %s without using an attempt", async (_name, badCode) => {
    const { id, code } = await createVerification();

    const response = await verify(id, badCode);
    expect(response.statusCode).toBe(400);
    const { error } = response.json() as { error: { code: string; field: string; message: string } };
    expect(error.code).toBe("OTP_ERR_VALIDATION");
    expect(error.field).toBe("code");
    expect(error.message).toMatch(/^code /);

    const wrong = await verify(id, wrongCode(code));
    expect(wrong.json()).toEqual({ id, valid: false, attemptsRemaining: api.config.OTP_MAX_VERIFY_ATTEMPTS - 1 });
  });

  test("rejects an unknown field", async () => {
    const { id, code } = await createVerification();

    const response = await postJson(api.app, `/v1/otp/${id}/verify`, { code, id });

    expect(response.statusCode).toBe(400);
    expect((response.json() as { error: { field: string } }).error.field).toBe("id");
  });

  test.each([
    ["unknown", "otp_000000000000000000000000"],
    ["malformed", "not-an-id"],
    ["upper-case", "OTP_000000000000000000000000"],
  ])("returns 404 for an %s id", async (_name, id) => {
    const response = await verify(id, "123456");

    expect(response.statusCode).toBe(404);
    expect((response.json() as { error: { code: string } }).error.code).toBe("OTP_ERR_NOT_FOUND");
  });
});
