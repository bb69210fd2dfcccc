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

/** Printable ASCII, the only header values HTTP lets a client send. */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 300,
});

const headerSets = fc.record(
  {
    authorization: fc.oneof(
      headerValue,
      fc.constant("Bearer "),
      headerValue.map((value) => `Bearer ${value}`),
    ),
    "content-type": fc.oneof(fc.constant("application/json"), fc.constant("application/json; charset=utf-8"), headerValue),
    "idempotency-key": headerValue,
    "x-forwarded-for": headerValue,
    extra: fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), headerValue, { maxKeys: 3 }),
  },
  { requiredKeys: [] },
);

describe("arbitrary headers and paths", () => {
  test("POST /v1/otp never returns 5xx whatever the headers", async () => {
    await fc.assert(
      fc.asyncProperty(headerSets, jsonBodies, async ({ extra, ...headers }, payload) => {
        const response = await api.app.inject({ method: "POST", url: "/v1/otp", headers: { ...extra, ...headers }, payload });
        expectClientAnswer(response.statusCode, response.body);
        if (response.statusCode === 401) expect(response.headers["www-authenticate"]).toBe('Bearer realm="otpin"');
      }),
      { numRuns: 150 },
    );
  });

  test("any method on any path never returns 5xx", async () => {
    const methods = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD");
    const paths = fc.oneof(
      // fc.webPath() may be empty, which is no request line at all.
      fc
        .webPath()
        .map((path) => (path.startsWith("/") ? path : `/${path}`)),
      fc.webPath().map((path) => `/v1/otp${path}`),
      fc.string({ maxLength: 80 }).map((text) => `/v1/otp/${encodeURIComponent(text)}/verify`),
      fc.stringMatching(/^\/[%A-Za-z0-9._~!$&'()*+,;=:@/?-]{0,80}$/),
    );
    await fc.assert(
      fc.asyncProperty(methods, paths, fc.boolean(), async (method, url, withKey) => {
        const response = await api.app.inject({
          method: method as "GET",
          url,
          headers: { "content-type": "application/json", ...(withKey ? {} : { authorization: "" }) },
          ...(method === "GET" || method === "HEAD" ? {} : { payload: "{}" }),
        });
        expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  });
});
