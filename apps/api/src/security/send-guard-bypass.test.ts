import { afterEach, describe, expect, test } from "vitest";
import { createTestApi, type TestApi } from "../test-support/test-api.js";
import { clientIpBucket } from "./client-ip.js";
import { EventRecorder } from "./event-recorder.js";

// Ways around the send defences: a country claimed for a number that has none, and client
// addresses written in forms that would otherwise escape their limit.

let api: TestApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

function send(target: TestApi, body: Record<string, string>, headers: Record<string, string> = {}) {
  return target.app.inject({
    method: "POST",
    url: "/v1/otp",
    headers: { "content-type": "application/json", ...headers },
    payload: JSON.stringify(body),
  });
}

// Valid mobile numbers of non-geographic calling codes: libphonenumber-js gives them no country.
const INMARSAT = "+870773111632";
const IRIDIUM = "+881612345678";

describe("country of a non-geographic number", () => {
  test("allow-list rejects satellite number with claimed country", async () => {
    api = await createTestApi({ ALLOWED_COUNTRIES: "US" });

    const plain = await send(api, { to: INMARSAT });
    const claimedUs = await send(api, { to: INMARSAT, country: "US" });

    expect(plain.statusCode).toBe(403);
    expect(claimedUs.statusCode, claimedUs.body).toBe(403);
    expect(await api.queue.count()).toBe(0);
  });

  test("spend budget shared across claimed countries", async () => {
    const events = new EventRecorder();
    // One segment costs 0.05, so the budget admits two sends per hour.
    api = await createTestApi({ SPEND_BUDGET_PER_HOUR: "*=0.1", SMS_PRICE_PER_SEGMENT: "*=0.05" }, { securityEvents: events });

    const statuses: number[] = [];
    for (const [index, country] of ["US", "GB", "FR", "DE"].entries()) {
      const response = await send(api, { to: `${IRIDIUM.slice(0, -1)}${index}`, country });
      statuses.push(response.statusCode);
    }

    expect(statuses).toEqual([202, 202, 429, 429]);
    expect(events.counts()).toEqual({ spend_budget: 2 });
  });
});

describe("client address buckets", () => {
  test.each([["::ffff:c000:201"], ["0:0:0:0:0:ffff:192.0.2.1"], ["0000:0000:0000:0000:0000:ffff:c000:0201"]])(
    "counts the IPv4-mapped form %s as 192.0.2.1",
    (address) => {
      expect(clientIpBucket(address)).toBe("192.0.2.1");
    },
  );

  test("hex IPv4-mapped address shares the IPv4 limit", async () => {
    api = await createTestApi({ CLIENT_IP_LIMIT: "1" });

    const first = await send(api, { to: "+14155550101", clientIp: "192.0.2.1" });
    const mapped = await send(api, { to: "+14155550102", clientIp: "::ffff:c000:201" });

    expect(first.statusCode).toBe(202);
    expect(mapped.statusCode, mapped.body).toBe(429);
  });

  test("non-address from trusted proxy is still limited", async () => {
    // Squid with `forwarded_for off` sends this literal, and fastify then sets request.ip to it.
    api = await createTestApi({ CLIENT_IP_LIMIT: "1", TRUST_PROXY: "127.0.0.1" });

    const statuses: number[] = [];
    for (const suffix of ["01", "02", "03"]) {
      const response = await send(api, { to: `+141555501${suffix}` }, { "x-forwarded-for": "unknown" });
      statuses.push(response.statusCode);
    }

    expect(statuses).toEqual([202, 429, 429]);
  });
});
