import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestApi, TEST_API_KEY, type TestApi } from "../test-support/test-api.js";
import { EventRecorder } from "./event-recorder.js";

let api: TestApi;
const events = new EventRecorder();

beforeAll(async () => {
  api = await createTestApi({}, { securityEvents: events });
});

afterAll(async () => {
  await api.close();
});

function send(authorization: string) {
  return api.app.inject({
    method: "POST",
    url: "/v1/otp",
    headers: { "content-type": "application/json", authorization },
    payload: { to: "+15005550006" },
  });
}

describe("API key authentication", () => {
  test.each([
    ["no key", ""],
    ["a wrong key", "Bearer otpin_wrong"],
    ["the key's hash", `Bearer ${createHash("sha256").update(TEST_API_KEY).digest("hex")}`],
    ["another scheme", `Basic ${Buffer.from(`x:${TEST_API_KEY}`).toString("base64")}`],
    ["the key without a scheme", TEST_API_KEY],
  ])("refuses %s with 401 and a challenge", async (_name, authorization) => {
    const before = events.counts().unauthorized ?? 0;
    const response = await send(authorization);

    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="otpin"');
    expect(response.json()).toMatchObject({ error: { code: "OTP_ERR_UNAUTHORIZED" } });
    expect(response.body).not.toContain(TEST_API_KEY);
    expect(events.counts().unauthorized).toBe(before + 1);
    expect(await api.queue.count()).toBe(0);
  });

  test("accepts the key with any case of Bearer", async () => {
    const response = await send(`bearer ${TEST_API_KEY}`);

    expect(response.statusCode).toBe(202);
  });

  test.each([
    ["GET", "/v1/otp/otp_000000000000000000000000"],
    ["POST", "/v1/otp/otp_000000000000000000000000/verify"],
    ["GET", "/v1/unknown"],
  ])("guards %s %s, known route or not", async (method, url) => {
    const response = await api.app.inject({ method: method as "GET", url, headers: { authorization: "" } });

    expect(response.statusCode).toBe(401);
  });

  test.each(["/healthz", "/readyz", "/metrics"])("serves %s without a key", async (url) => {
    const response = await api.app.inject({ method: "GET", url, headers: { authorization: "" } });

    expect(response.statusCode).not.toBe(401);
  });

  test("leaves provider webhooks to their own signature checks", async () => {
    const response = await api.app.inject({ method: "POST", url: "/v1/webhooks/twilio", headers: { authorization: "" } });

    expect(response.statusCode).not.toBe(401);
  });
});
