import { wrongCode } from "@otpin/core/testing";
import { afterEach, describe, expect, test } from "vitest";
import { createTestApi, postJson, type TestApi } from "../test-support/test-api.js";

let api: TestApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function create(target: TestApi, to = "+15005550006"): Promise<{ id: string; code: string }> {
  const response = await postJson(target.app, "/v1/otp", { to });
  expect(response.statusCode, response.body).toBe(202);
  const { id } = response.json() as { id: string };
  return { id, code: await target.codeOf(id) };
}

describe("verification defences", () => {
  test("a new send to the same number invalidates the older code", async () => {
    api = await createTestApi({ INVALIDATE_PREVIOUS_CODES: "true" });
    const older = await create(api);
    const newer = await create(api);
    const elsewhere = await create(api, "+15005550007");

    const stale = await postJson(api.app, `/v1/otp/${older.id}/verify`, { code: older.code });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ error: { code: "OTP_ERR_SUPERSEDED" } });
    expect((await postJson(api.app, `/v1/otp/${newer.id}/verify`, { code: newer.code })).json()).toEqual({
      id: newer.id,
      valid: true,
    });
    expect((await postJson(api.app, `/v1/otp/${elsewhere.id}/verify`, { code: elsewhere.code })).statusCode).toBe(200);
  });

  test("keeps older codes valid with INVALIDATE_PREVIOUS_CODES=false", async () => {
    api = await createTestApi({ INVALIDATE_PREVIOUS_CODES: "false" });
    const older = await create(api);
    await create(api);

    expect((await postJson(api.app, `/v1/otp/${older.id}/verify`, { code: older.code })).json()).toEqual({
      id: older.id,
      valid: true,
    });
  });

  test("locks after OTP_MAX_VERIFY_ATTEMPTS wrong codes, even for the right one", async () => {
    api = await createTestApi({ INVALIDATE_PREVIOUS_CODES: "true" });
    const { id, code } = await create(api);
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const response = await postJson(api.app, `/v1/otp/${id}/verify`, { code: wrongCode(code) });
      expect(response.json()).toEqual({ id, valid: false, attemptsRemaining: 5 - attempt });
    }

    const locked = await postJson(api.app, `/v1/otp/${id}/verify`, { code });
    expect(locked.statusCode).toBe(423);
    expect(locked.json().error.code).toBe("OTP_ERR_LOCKED");
  });

  test("accepts a code once", async () => {
    api = await createTestApi({ INVALIDATE_PREVIOUS_CODES: "true" });
    const { id, code } = await create(api);

    expect((await postJson(api.app, `/v1/otp/${id}/verify`, { code })).statusCode).toBe(200);
    expect((await postJson(api.app, `/v1/otp/${id}/verify`, { code })).json().error.code).toBe("OTP_ERR_ALREADY_VERIFIED");
  });
});
