import { codeMatches, type DeliveryJobData, isOtpId, maskPhone, type SecretPayload, secretPayloadSchema } from "@otpin/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestApi, postJson, type TestApi } from "../test-support/test-api.js";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi();
});

afterAll(async () => {
  await api.close();
});

async function readJob(id: string): Promise<{ data: DeliveryJobData; secret: SecretPayload; opts: Record<string, unknown> }> {
  const job = await api.queue.getJob(id);
  if (job === undefined) throw new Error(`job ${id} is not in the queue`);
  const secret = secretPayloadSchema.parse(api.cipher.decrypt(job.data.payload, id));
  return { data: job.data, secret, opts: job.opts as Record<string, unknown> };
}

async function createOtp(body: Record<string, unknown>): Promise<{ id: string; secret: SecretPayload }> {
  const response = await postJson(api.app, "/v1/otp", body);
  expect(response.statusCode, response.body).toBe(202);
  const { id } = response.json() as { id: string };
  return { id, secret: (await readJob(id)).secret };
}

describe("POST /v1/otp", () => {
  test("queues a verification and returns 202", async () => {
    const before = Date.now();
    const response = await postJson(api.app, "/v1/otp", { to: "+15005550006" });

    expect(response.statusCode).toBe(202);
    const body = response.json() as { id: string; status: string; expiresAt: string };
    expect(isOtpId(body.id)).toBe(true);
    expect(body.status).toBe("queued");
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "id", "status"]);
    const expiresAt = Date.parse(body.expiresAt);
    expect(body.expiresAt).toBe(new Date(expiresAt).toISOString());
    expect(expiresAt).toBeGreaterThanOrEqual(before + api.config.OTP_TTL_SECONDS * 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + api.config.OTP_TTL_SECONDS * 1000);
    expect(response.headers.location).toBe(`/v1/otp/${body.id}`);
  });

  test("stores the record with a hash and attempt limit", async () => {
    const { id, secret } = await createOtp({ to: "+15005550006" });
    const fields = await api.redis.hgetall(`${api.config.QUEUE_PREFIX}:otp:${id}`);

    expect(fields.status).toBe("queued");
    expect(fields.to).toBe(maskPhone("+15005550006"));
    expect(fields.failedVerifications).toBe("0");
    expect(fields.maxVerifyAttempts).toBe(String(api.config.OTP_MAX_VERIFY_ATTEMPTS));
    expect(codeMatches(api.codeHashKey, id, secret.code, fields.codeHash ?? "")).toBe(true);
    expect(JSON.stringify(fields)).not.toContain(secret.code);
    expect(JSON.stringify(fields)).not.toContain("5005550006");
  });

  test("enqueues a job whose data holds no code or number", async () => {
    const { id } = await createOtp({ to: "+15005550006", email: "jo@example.com", locale: "en-gb" });
    const job = await api.queue.getJob(id);
    const { data, secret, opts } = await readJob(id);
    const raw = JSON.stringify(job?.asJSON());

    expect(job?.name).toBe("deliver");
    expect(data.otpId).toBe(id);
    expect(data.country).toBe("US");
    expect(opts.attempts).toBe(api.config.JOB_ATTEMPTS);
    expect(opts.backoff).toEqual({ type: "exponential", delay: api.config.JOB_BACKOFF_MS });
    expect(raw).not.toContain("5005550006");
    expect(raw).not.toContain(secret.code);
    expect(raw).not.toContain("jo@example.com");
    expect(secret).toEqual({ to: "+15005550006", code: secret.code, email: "jo@example.com", locale: "en-GB" });
    expect(secret.code).toMatch(new RegExp(`^\\d{${api.config.OTP_LENGTH}}$`));
  });

  test("binds the payload to its verification id", async () => {
    const { id } = await createOtp({ to: "+15005550006" });
    const job = await api.queue.getJob(id);

    expect(() => api.cipher.decrypt(job!.data.payload, "otp_000000000000000000000000")).toThrow(/authentication/);
  });

  test.each([
    [{ to: "0407 123 456", country: "AU" }, "+61407123456"],
    [{ to: "07911 123456", country: "GB" }, "+447911123456"],
    [{ to: "+44 (0)7911 123456", country: "GB" }, "+447911123456"],
    [{ to: "0044 7911 123456", country: "GB" }, "+447911123456"],
    [{ to: "tel:+15005550006" }, "+15005550006"],
  ])("normalizes %j to E.164", async (body, e164) => {
    const { secret } = await createOtp(body);

    expect(secret.to).toBe(e164);
  });

  test.each([
    ["+0407123456 with AU", { to: "+0407123456", country: "AU" }],
    ["unassigned +447700900123", { to: "+447700900123" }],
    ["letters", { to: "+1 call me" }],
    ["a fixed-line number", { to: "+442071838750" }],
    ["a premium-rate number", { to: "+449098790000" }],
    ["a national number without country", { to: "07911 123456" }],
  ])("rejects %s with 400 on to", async (_name, body) => {
    const response = await postJson(api.app, "/v1/otp", body);

    expect(response.statusCode).toBe(400);
    const { error } = response.json() as { error: { code: string; message: string; field: string } };
    expect(error.code).toBe("OTP_ERR_VALIDATION");
    expect(error.field).toBe("to");
    expect(error.message).toMatch(/^to /);
  });

  test.each([
    ["missing to", {}, "to", /to is missing/],
    ["to as a number", { to: 15005550006 }, "to", /to must be a string/],
    ["an unknown field", { to: "+15005550006", phone: "x" }, "phone", /phone is not a known field/],
    ["a bad country", { to: "0407123456", country: "Australia" }, "country", /ISO 3166/],
    ["an unsupported country", { to: "0407123456", country: "ZZ" }, "country", /ISO 3166/],
    ["a bad email", { to: "+15005550006", email: "not-an-address" }, "email", /email is not a valid address/],
    ["a long email", { to: "+15005550006", email: `${"a".repeat(250)}@example.com` }, "email", /longer than 254/],
    ["a bad locale", { to: "+15005550006", locale: "english" }, "locale", /language tag/],
    ["a locale with a script", { to: "+15005550006", locale: "en_GB" }, "locale", /language tag/],
  ])("rejects %s with 400 naming the field", async (_name, body, field, message) => {
    const response = await postJson(api.app, "/v1/otp", body);

    expect(response.statusCode).toBe(400);
    const { error } = response.json() as { error: { code: string; message: string; field: string } };
    expect(error.code).toBe("OTP_ERR_VALIDATION");
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  test.each([
    ["an array", [1]],
    ["a string", "+15005550006"],
    ["null", null],
    ["a number", 7],
  ])("rejects %s as the body", async (_name, body) => {
    const response = await postJson(api.app, "/v1/otp", body);

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: { code: "OTP_ERR_VALIDATION", message: 'request body must be a JSON object such as {"to":"+14155550123"}' },
    });
  });
});

describe("POST /v1/otp country policy", () => {
  let restricted: TestApi;

  beforeAll(async () => {
    restricted = await createTestApi({ ALLOWED_COUNTRIES: "US,AU", BLOCKED_COUNTRIES: "AU" });
  });

  afterAll(async () => {
    await restricted.close();
  });

  test.each([
    ["outside ALLOWED_COUNTRIES", "+33612345678", 403],
    ["in BLOCKED_COUNTRIES", "+61407123456", 403],
    ["allowed", "+15005550006", 202],
  ])("returns a number %s", async (_name, to, status) => {
    const response = await postJson(restricted.app, "/v1/otp", { to });

    expect(response.statusCode).toBe(status);
    if (status === 403) {
      expect(response.json()).toMatchObject({ error: { code: "OTP_ERR_COUNTRY_BLOCKED", field: "to" } });
    }
  });
});
