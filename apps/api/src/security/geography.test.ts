import { afterEach, describe, expect, test } from "vitest";
import { createTestApi, postJson, type TestApi } from "../test-support/test-api.js";
import { EventRecorder } from "./event-recorder.js";
import { countryRefusal } from "./geography.js";

let api: TestApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe("geography", () => {
  test("refuses a country outside ALLOWED_COUNTRIES with 403 before enqueue", async () => {
    const events = new EventRecorder();
    api = await createTestApi({ ALLOWED_COUNTRIES: "US" }, { securityEvents: events });

    const response = await postJson(api.app, "/v1/otp", { to: "+447400123001" });

    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({
      error: {
        code: "OTP_ERR_COUNTRY_BLOCKED",
        field: "to",
        message: "to is a number in GB, which this service does not send to; it sends to US",
      },
    });
    expect(await api.queue.count()).toBe(0);
    expect(events.blockedReasons).toEqual(["country_blocked"]);
  });

  test("refuses a country in BLOCKED_COUNTRIES", async () => {
    api = await createTestApi({ BLOCKED_COUNTRIES: "GB,FR" });

    const response = await postJson(api.app, "/v1/otp", { to: "+33612345678" });

    expect(response.statusCode).toBe(403);
    expect(response.json().error.message).not.toContain("612345678");
  });

  test("only counts in monitor mode", async () => {
    const events = new EventRecorder();
    api = await createTestApi({ ALLOWED_COUNTRIES: "US", GEO_MODE: "monitor" }, { securityEvents: events });

    const response = await postJson(api.app, "/v1/otp", { to: "+447400123001" });

    expect(response.statusCode).toBe(202);
    expect(await api.queue.count()).toBe(1);
    expect(events.blockedReasons).toEqual(["country_monitor"]);
  });
});

describe("refusal messages", () => {
  test("name only the allowed countries that are not also blocked", () => {
    const policy = { ALLOWED_COUNTRIES: ["US", "GB"], BLOCKED_COUNTRIES: ["GB"], GEO_MODE: "enforce" as const };
    expect(countryRefusal(policy, "FR")).toBe("to is a number in FR, which this service does not send to; it sends to US");
    expect(countryRefusal(policy, "GB")).toBe("to is a number in GB, which this service does not send to");
    expect(countryRefusal({ ...policy, ALLOWED_COUNTRIES: ["GB"] }, "FR")).toBe(
      "to is a number in FR, which this service does not send to",
    );
    expect(countryRefusal(policy, "US")).toBeUndefined();
  });
});
