import { randomUUID } from "node:crypto";
import { dumpRedis } from "@otpin/core/testing";
import { afterEach, describe, expect, test } from "vitest";
import { createTestApi, postJson, type TestApi } from "../test-support/test-api.js";
import { EventRecorder } from "./event-recorder.js";

let api: TestApi | undefined;
let events: EventRecorder;
let replicas: TestApi[] = [];

afterEach(async () => {
  await api?.close();
  api = undefined;
  await Promise.all(replicas.map((replica) => replica.close()));
  replicas = [];
});

/** Every limit off except those in `env`. */
async function start(env: Record<string, string>): Promise<TestApi> {
  events = new EventRecorder();
  api = await createTestApi(env, { securityEvents: events });
  return api;
}

function send(target: TestApi, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return target.app.inject({
    method: "POST",
    url: "/v1/otp",
    headers: { "content-type": "application/json", ...headers },
    payload: body,
  });
}

function expectRefusal(response: Awaited<ReturnType<typeof send>>, limit: string, retryAfter: number): void {
  expect(response.statusCode, response.body).toBe(429);
  expect(response.headers["retry-after"]).toBe(String(retryAfter));
  expect(response.json()).toMatchObject({ error: { code: "OTP_ERR_RATE_LIMITED", limit, retryAfterSeconds: retryAfter } });
  expect(response.json().error.message).toContain(`retry in ${retryAfter} s`);
}

describe("send limits", () => {
  test("rejects a resend within the cooldown with Retry-After, then sends a second code", async () => {
    const target = await start({ RECIPIENT_COOLDOWN_SECONDS: "30" });

    expect((await send(target, { to: "+15005550006" })).statusCode).toBe(202);
    target.advanceClock(10_000);
    expectRefusal(await send(target, { to: "+15005550006" }), "recipient_cooldown", 20);
    expect(await target.queue.count()).toBe(1);

    target.advanceClock(50_000);
    expect((await send(target, { to: "+15005550006" })).statusCode).toBe(202);
    expect(await target.queue.count()).toBe(2);
    expect(events.blockedReasons).toEqual(["recipient_cooldown"]);
  });

  test("allows RECIPIENT_HOURLY_LIMIT codes per number per hour", async () => {
    const target = await start({ RECIPIENT_COOLDOWN_SECONDS: "30", RECIPIENT_HOURLY_LIMIT: "5" });
    for (let index = 0; index < 5; index += 1) {
      expect((await send(target, { to: "+15005550006" })).statusCode).toBe(202);
      target.advanceClock(60_000);
    }

    // The first of the five leaves the hour 3600 - 5 * 60 seconds from now.
    expectRefusal(await send(target, { to: "+15005550006" }), "recipient_hourly", 3300);
    expect((await send(target, { to: "+15005550007" })).statusCode).toBe(202);
  });

  test("limits a number range: E.164 without its last three digits", async () => {
    const target = await start({ NUMBER_RANGE_LIMIT: "3", NUMBER_RANGE_WINDOW_SECONDS: "600" });
    for (const to of ["+447400123001", "+447400123500", "+447400123999"]) {
      expect((await send(target, { to })).statusCode).toBe(202);
    }

    expectRefusal(await send(target, { to: "+447400123002" }), "number_range", 600);
    expect((await send(target, { to: "+447400124001" })).statusCode).toBe(202);
  });

  test("limits the end user's address from clientIp", async () => {
    const target = await start({ CLIENT_IP_LIMIT: "2", CLIENT_IP_WINDOW_SECONDS: "60" });
    for (const to of ["+15005550001", "+15005550002"]) {
      expect((await send(target, { to, clientIp: "203.0.113.7" })).statusCode).toBe(202);
    }

    expectRefusal(await send(target, { to: "+15005550003", clientIp: "203.0.113.7" }), "client_ip", 60);
    expect((await send(target, { to: "+15005550003", clientIp: "203.0.113.8" })).statusCode).toBe(202);
  });

  test("counts the socket address and ignores X-Forwarded-For without TRUST_PROXY", async () => {
    const target = await start({ CLIENT_IP_LIMIT: "1" });
    expect((await send(target, { to: "+15005550001" }, { "x-forwarded-for": "198.51.100.1" })).statusCode).toBe(202);

    const spoofed = await send(target, { to: "+15005550002" }, { "x-forwarded-for": "198.51.100.2" });
    expect(spoofed.json().error.limit).toBe("client_ip");
  });

  test("reads X-Forwarded-For from a trusted proxy", async () => {
    const target = await start({ CLIENT_IP_LIMIT: "1", TRUST_PROXY: "127.0.0.1" });
    expect((await send(target, { to: "+15005550001" }, { "x-forwarded-for": "198.51.100.1" })).statusCode).toBe(202);

    expect((await send(target, { to: "+15005550002" }, { "x-forwarded-for": "198.51.100.2" })).statusCode).toBe(202);
    expect((await send(target, { to: "+15005550003" }, { "x-forwarded-for": "198.51.100.2" })).statusCode).toBe(429);
  });

  test("limits each API key", async () => {
    const target = await start({ API_KEY_LIMIT: "2", API_KEY_WINDOW_SECONDS: "60" });
    await send(target, { to: "+15005550001" });
    await send(target, { to: "+15005550002" });

    expectRefusal(await send(target, { to: "+15005550003" }), "api_key", 60);
    target.advanceClock(60_000);
    expect((await send(target, { to: "+15005550003" })).statusCode).toBe(202);
  });

  test("a request refused by one limit uses up none of the others", async () => {
    const target = await start({
      RECIPIENT_COOLDOWN_SECONDS: "3600",
      NUMBER_RANGE_LIMIT: "1",
      NUMBER_RANGE_WINDOW_SECONDS: "60",
    });
    expect((await send(target, { to: "+447400123001" })).statusCode).toBe(202);
    expect((await send(target, { to: "+447400123002" })).json().error.limit).toBe("number_range");

    target.advanceClock(61_000);
    // Had the refused request started +447400123002's hour-long cooldown, this would be a 429.
    expect((await send(target, { to: "+447400123002" })).statusCode).toBe(202);
  });

  test("names the limit with the longest wait when several refuse", async () => {
    const target = await start({ RECIPIENT_COOLDOWN_SECONDS: "30", RECIPIENT_HOURLY_LIMIT: "1" });
    await send(target, { to: "+15005550006" });

    expectRefusal(await send(target, { to: "+15005550006" }), "recipient_hourly", 3600);
  });

  test("holds each country to its hourly spend budget", async () => {
    const target = await start({ SMS_PRICE_PER_SEGMENT: "GB=0.05,*=0.01", SPEND_BUDGET_PER_HOUR: "GB=0.1" });
    expect((await send(target, { to: "+447400123001" })).statusCode).toBe(202);
    expect((await send(target, { to: "+447400123002" })).statusCode).toBe(202);

    const refused = await send(target, { to: "+447400123003" });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.limit).toBe("spend_budget");
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(3600);
    expect(events.budgetCountries).toEqual(["GB"]);
    expect((await send(target, { to: "+15005550006" })).statusCode).toBe(202);
    expect(await target.queue.count()).toBe(3);
  });

  test("keeps no number or address in Redis keys or values", async () => {
    const target = await start({
      RECIPIENT_COOLDOWN_SECONDS: "30",
      RECIPIENT_HOURLY_LIMIT: "5",
      NUMBER_RANGE_LIMIT: "10",
      CLIENT_IP_LIMIT: "10",
      API_KEY_LIMIT: "10",
      INVALIDATE_PREVIOUS_CODES: "true",
    });
    await send(target, { to: "+447400123456", clientIp: "203.0.113.77" }, { "idempotency-key": "order-1" });
    await send(target, { to: "+447400123456", clientIp: "203.0.113.77" });

    const dump = await dumpRedis(target.redis, `${target.config.QUEUE_PREFIX}:*`);
    expect(dump.length).toBeGreaterThan(0);
    for (const needle of ["447400123456", "447400123", "203.0.113.77", "order-1"]) {
      expect(dump, needle).not.toContain(needle);
    }
  });

  test("lets a limit of 0 turn it off", async () => {
    const target = await start({ RECIPIENT_COOLDOWN_SECONDS: "0", RECIPIENT_HOURLY_LIMIT: "0" });
    for (let index = 0; index < 8; index += 1) expect((await send(target, { to: "+15005550006" })).statusCode).toBe(202);
  });
});

describe("send limits with defaults", () => {
  test("uses the documented defaults", async () => {
    const target = await createTestApi({
      RECIPIENT_COOLDOWN_SECONDS: "",
      RECIPIENT_HOURLY_LIMIT: "",
      API_KEY_LIMIT: "",
      NUMBER_RANGE_LIMIT: "",
      CLIENT_IP_LIMIT: "",
      SPEND_BUDGET_PER_HOUR: "",
    });
    api = target;
    expect(target.config).toMatchObject({
      RECIPIENT_COOLDOWN_SECONDS: 30,
      RECIPIENT_HOURLY_LIMIT: 5,
      API_KEY_LIMIT: 600,
      API_KEY_WINDOW_SECONDS: 60,
      NUMBER_RANGE_LIMIT: 10,
      NUMBER_RANGE_WINDOW_SECONDS: 600,
      CLIENT_IP_LIMIT: 20,
      CLIENT_IP_WINDOW_SECONDS: 600,
      SMS_PRICE_PER_SEGMENT: { "*": 0.05 },
      SPEND_BUDGET_PER_HOUR: { "*": 100 },
      GEO_MODE: "enforce",
    });
    expect((await postJson(target.app, "/v1/otp", { to: "+15005550006" })).statusCode).toBe(202);
    expect((await postJson(target.app, "/v1/otp", { to: "+15005550006" })).statusCode).toBe(429);
  });
});

describe("send limits across replicas", () => {
  const HOUR_MS = 3_600_000;

  /** Starts an API replica whose system clock is off by `skewMs`, with the production limit clock. */
  async function replica(prefix: string, skewMs: number): Promise<TestApi> {
    // limitClock undefined restores buildApi's default, Redis's clock, in place of the test clock.
    const started = await createTestApi(
      { QUEUE_PREFIX: prefix, RECIPIENT_COOLDOWN_SECONDS: "30" },
      { clock: () => Date.now() + skewMs, limitClock: undefined },
    );
    replicas.push(started);
    return started;
  }

  test.each([
    ["ahead, then the replica behind", HOUR_MS, 0],
    ["behind, then the replica ahead", 0, HOUR_MS],
  ])("one cooldown holds when the first send goes through the replica %s", async (_order, firstSkew, secondSkew) => {
    const prefix = `test-${randomUUID()}`;
    const first = await replica(prefix, firstSkew);
    const second = await replica(prefix, secondSkew);

    expect((await send(first, { to: "+15005550006" })).statusCode).toBe(202);
    const refused = await send(second, { to: "+15005550006" });

    // With each replica's own clock, the replica behind would ask for 3630 s and the one ahead would admit the send.
    expect(refused.statusCode, refused.body).toBe(429);
    expect(refused.json().error.limit).toBe("recipient_cooldown");
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(await second.queue.count()).toBe(1);
  });
});
