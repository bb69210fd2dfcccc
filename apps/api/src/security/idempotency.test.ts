import { afterEach, describe, expect, test } from "vitest";
import { createTestApi, type TestApi } from "../test-support/test-api.js";
import { EventRecorder } from "./event-recorder.js";
import { stableJson } from "./idempotency.js";

let api: TestApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

function send(target: TestApi, body: Record<string, unknown>, key?: string, authorization?: string) {
  return target.app.inject({
    method: "POST",
    url: "/v1/otp",
    headers: {
      "content-type": "application/json",
      ...(key === undefined ? {} : { "idempotency-key": key }),
      ...(authorization === undefined ? {} : { authorization }),
    },
    payload: body,
  });
}

describe("Idempotency-Key", () => {
  test("replays the first answer without a second job", async () => {
    api = await createTestApi({ RECIPIENT_COOLDOWN_SECONDS: "30" });
    const first = await send(api, { to: "+15005550006" }, "k1");
    api.advanceClock(200);
    const second = await send(api, { to: "+15005550006" }, "k1");

    expect(first.statusCode).toBe(202);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual(first.json());
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(second.headers.location).toBe(first.headers.location);
    expect(await api.queue.count()).toBe(1);
  });

  test("sends one job for concurrent keyed requests", async () => {
    api = await createTestApi();
    const target = api;
    const answers = await Promise.all([1, 2, 3].map(() => send(target, { to: "+15005550006" }, "k1")));

    expect(answers.map((answer) => answer.statusCode)).toEqual([202, 202, 202]);
    expect(new Set(answers.map((answer) => answer.json().id)).size).toBe(1);
    expect(answers.filter((answer) => answer.headers["idempotent-replayed"] === "true")).toHaveLength(2);
    expect(await api.queue.count()).toBe(1);
  });

  test("refuses the same key with a different body with 422", async () => {
    const events = new EventRecorder();
    api = await createTestApi({}, { securityEvents: events });
    await send(api, { to: "+15005550006" }, "k1");

    const conflict = await send(api, { to: "+15005550007" }, "k1");

    expect(conflict.statusCode).toBe(422);
    expect(conflict.json()).toMatchObject({ error: { code: "OTP_ERR_IDEMPOTENCY_CONFLICT", field: "Idempotency-Key" } });
    expect(events.blockedReasons).toEqual(["idempotency_conflict"]);
    expect(await api.queue.count()).toBe(1);
  });

  test("keeps keys of different API keys apart", async () => {
    const other = "otpin_other-key-0123456789abcdef0123456789abcd";
    const { createHash } = await import("node:crypto");
    const { TEST_API_KEY_ENV } = await import("../test-support/test-api.js");
    api = await createTestApi({
      API_KEYS: `${TEST_API_KEY_ENV.API_KEYS},other:${createHash("sha256").update(other).digest("hex")}`,
    });
    const mine = await send(api, { to: "+15005550006" }, "k1");
    const theirs = await send(api, { to: "+15005550006" }, "k1", `Bearer ${other}`);

    expect(theirs.statusCode).toBe(202);
    expect(theirs.json().id).not.toBe(mine.json().id);
    expect(theirs.headers["idempotent-replayed"]).toBeUndefined();
  });

  test("frees the key after an error so a retry can succeed", async () => {
    api = await createTestApi({ RECIPIENT_COOLDOWN_SECONDS: "30" });
    await send(api, { to: "+15005550006" });
    const refused = await send(api, { to: "+15005550006" }, "retry-me");
    api.advanceClock(31_000);
    const retried = await send(api, { to: "+15005550006" }, "retry-me");

    expect(refused.statusCode).toBe(429);
    expect(retried.statusCode).toBe(202);
    expect(retried.headers["idempotent-replayed"]).toBeUndefined();
  });

  test.each([
    ["empty", ""],
    ["too long", "k".repeat(256)],
    ["a control character", "k\u0001"],
  ])("rejects a key that is %s with 400", async (_name, key) => {
    api = await createTestApi();

    const response = await send(api, { to: "+15005550006" }, key);

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "OTP_ERR_VALIDATION", field: "Idempotency-Key" } });
  });

  test("hashes bodies the same whatever their key order", () => {
    expect(stableJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } })).toBe('{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
  });
});
