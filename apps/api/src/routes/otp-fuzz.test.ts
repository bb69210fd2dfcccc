import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestApi, postJson, type TestApi } from "../test-support/test-api.js";

let api: TestApi;
let knownId: string;

beforeAll(async () => {
  api = await createTestApi();
  const response = await postJson(api.app, "/v1/otp", { to: "+15005550006" });
  knownId = (response.json() as { id: string }).id;
});

afterAll(async () => {
  await api.close();
});

/** JSON texts: arbitrary JSON values, and objects that mix the real field names with junk values. */
const jsonBodies = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc
    .anything({ maxDepth: 2 })
    .map((value) => JSON.stringify(value))
    .filter((text): text is string => text !== undefined),
  fc
    .record(
      {
        to: fc.anything({ maxDepth: 1 }),
        country: fc.anything({ maxDepth: 1 }),
        email: fc.string(),
        locale: fc.string(),
        code: fc.string(),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
);

async function postRaw(url: string, payload: string) {
  return api.app.inject({ method: "POST", url, headers: { "content-type": "application/json" }, payload });
}

function expectClientAnswer(statusCode: number, body: string): void {
  expect(statusCode, body).toBeLessThan(500);
  if (statusCode >= 400) expect(JSON.parse(body).error.code).toMatch(/^OTP_ERR_/);
}

describe("arbitrary JSON bodies", () => {
  test("POST /v1/otp never returns 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(jsonBodies, async (payload) => {
        const response = await postRaw("/v1/otp", payload);
        expectClientAnswer(response.statusCode, response.body);
      }),
      { numRuns: 200 },
    );
  });

  test("POST /v1/otp/:id/verify never returns 5xx", async () => {
    const ids = fc.oneof(
      fc.constant(knownId),
      fc.constant("otp_000000000000000000000000"),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    );
    await fc.assert(
      fc.asyncProperty(ids, jsonBodies, async (id, payload) => {
        const response = await postRaw(`/v1/otp/${id}/verify`, payload);
        expectClientAnswer(response.statusCode, response.body);
      }),
      { numRuns: 200 },
    );
  });
});
