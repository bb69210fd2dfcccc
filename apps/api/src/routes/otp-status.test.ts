import { maskPhone } from "@otpin/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestApi, postJson, type TestApi } from "../test-support/test-api.js";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi();
});

afterAll(async () => {
  await api.close();
});

async function createVerification(to: string): Promise<{ id: string; code: string; expiresAt: string }> {
  const response = await postJson(api.app, "/v1/otp", { to });
  expect(response.statusCode, response.body).toBe(202);
  const { id, expiresAt } = response.json() as { id: string; expiresAt: string };
  return { id, code: await api.codeOf(id), expiresAt };
}

function getStatus(id: string) {
  return api.app.inject({ method: "GET", url: `/v1/otp/${id}` });
}

describe("GET /v1/otp/:id", () => {
  test("shows a queued verification with a masked number", async () => {
    const before = Date.now();
    const { id, code, expiresAt } = await createVerification("+15005550006");

    const response = await getStatus(id);

    expect(response.statusCode).toBe(200);
    expect(response.headers["cache-control"]).toBe("no-store");
    const body = response.json() as Record<string, unknown>;
    expect(body).toEqual({
      id,
      status: "queued",
      channel: "sms",
      to: maskPhone("+15005550006"),
      attempts: [],
      createdAt: expect.any(String),
      expiresAt,
    });
    expect(body.to).toMatch(/^\+1500\d*\*{4}06$/);
    expect(Date.parse(body.createdAt as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(response.body).not.toContain(code);
    expect(response.body).not.toContain("5005550006");
    expect(response.body).not.toContain("codeHash");
  });

  test("shows delivery attempts and the failure reason", async () => {
    const { id } = await createVerification("+447911123456");
    await api.store.appendAttempt(id, {
      provider: "twilio",
      outcome: "failed",
      errorClass: "provider_unavailable",
      errorCode: "20503",
      messageId: "SM123",
      latencyMs: 41,
      at: "2025-01-01T00:00:00.000Z",
    });
    await api.store.appendAttempt(id, { provider: "plivo", outcome: "failed", latencyMs: 12, at: "2025-01-01T00:00:01.000Z" });
    await api.store.transition(id, "failed", { reason: "all providers failed" });

    const body = (await getStatus(id)).json() as Record<string, unknown>;

    expect(body.status).toBe("failed");
    expect(body.reason).toBe("all providers failed");
    expect(body.attempts).toEqual([
      {
        provider: "twilio",
        outcome: "failed",
        errorClass: "provider_unavailable",
        errorCode: "20503",
        messageId: "SM123",
        latencyMs: 41,
        at: "2025-01-01T00:00:00.000Z",
      },
      { provider: "plivo", outcome: "failed", latencyMs: 12, at: "2025-01-01T00:00:01.000Z" },
    ]);
  });

  test("shows expired after the TTL", async () => {
    const { id } = await createVerification("+15005550006");
    api.advanceClock(api.config.OTP_TTL_SECONDS * 1000 + 1000);
    try {
      expect(((await getStatus(id)).json() as { status: string }).status).toBe("expired");
    } finally {
      api.advanceClock(-(api.config.OTP_TTL_SECONDS * 1000 + 1000));
    }
  });

  test("shows verified after a right code", async () => {
    const { id, code } = await createVerification("+15005550006");
    await postJson(api.app, `/v1/otp/${id}/verify`, { code });

    expect(((await getStatus(id)).json() as { status: string }).status).toBe("verified");
  });

  test.each([
    ["unknown", "otp_0123456789abcdef01234567"],
    ["malformed", "otp_xyz"],
  ])("returns 404 for an %s id", async (_name, id) => {
    const response = await getStatus(id);

    expect(response.statusCode).toBe(404);
    expect((response.json() as { error: { code: string } }).error.code).toBe("OTP_ERR_NOT_FOUND");
  });
});
