import { afterEach, describe, expect, test } from "vitest";
import { createTestApi, type TestApi } from "../test-support/test-api.js";
import { EventRecorder } from "./event-recorder.js";

// SMS pumping: 300 sends in 5 minutes from 3 client addresses to consecutive GB mobile numbers, never
// verified. (+447911... is Guernsey in libphonenumber, so the run uses +447400123001 onwards.)
const CLIENT_IPS = ["198.51.100.10", "198.51.100.20", "198.51.100.30"];
const SENDS = 300;
const SPAN_MS = 5 * 60 * 1000;

let api: TestApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** The API's default limits, not the test helper's "limits off". */
const DEFAULT_LIMITS = {
  RECIPIENT_COOLDOWN_SECONDS: "",
  RECIPIENT_HOURLY_LIMIT: "",
  API_KEY_LIMIT: "",
  NUMBER_RANGE_LIMIT: "",
  CLIENT_IP_LIMIT: "",
  SPEND_BUDGET_PER_HOUR: "",
};

async function pump(target: TestApi): Promise<{ statuses: Record<number, number>; retryAfterMissing: number }> {
  const statuses: Record<number, number> = {};
  let retryAfterMissing = 0;
  for (let index = 0; index < SENDS; index += 1) {
    const to = `+447400123${String(index + 1).padStart(3, "0")}`;
    const response = await target.app.inject({
      method: "POST",
      url: "/v1/otp",
      headers: { "content-type": "application/json" },
      payload: { to, clientIp: CLIENT_IPS[index % CLIENT_IPS.length] },
    });
    statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
    if (response.statusCode === 429 && response.headers["retry-after"] === undefined) retryAfterMissing += 1;
    target.advanceClock(SPAN_MS / SENDS);
  }
  return { statuses, retryAfterMissing };
}

describe("SMS pumping", () => {
  test("with GB not allowed, refuses every send before enqueue", async () => {
    const events = new EventRecorder();
    api = await createTestApi({ ...DEFAULT_LIMITS, ALLOWED_COUNTRIES: "US,CA" }, { securityEvents: events });

    const { statuses } = await pump(api);

    expect(statuses).toEqual({ 403: SENDS });
    expect(await api.queue.count()).toBe(0);
    expect(events.counts()).toEqual({ country_blocked: SENDS });
  });

  test("with GB allowed, lets only a handful through and refuses the rest with 429", async () => {
    const events = new EventRecorder();
    api = await createTestApi({ ...DEFAULT_LIMITS, ALLOWED_COUNTRIES: "GB" }, { securityEvents: events });

    const { statuses, retryAfterMissing } = await pump(api);

    // All 300 numbers share the range +447400123, which admits 10 per 10 minutes.
    expect(statuses).toEqual({ 202: 10, 429: SENDS - 10 });
    expect(retryAfterMissing).toBe(0);
    expect(await api.queue.count()).toBe(10);
    expect(events.counts()).toEqual({ number_range: SENDS - 10 });
  });

  test("with the range limit raised, the per-address limit still stops the run", async () => {
    const events = new EventRecorder();
    api = await createTestApi(
      { ...DEFAULT_LIMITS, ALLOWED_COUNTRIES: "GB", NUMBER_RANGE_LIMIT: "1000" },
      { securityEvents: events },
    );

    const { statuses } = await pump(api);

    // 20 per address per 10 minutes, three addresses.
    expect(statuses[202]).toBe(60);
    expect(await api.queue.count()).toBe(60);
    expect(events.counts()).toEqual({ client_ip: SENDS - 60 });
  });
});
