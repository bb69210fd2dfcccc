import { ConfigError, loadApiConfig, loadWorkerConfig } from "@otpin/core";
import { describe, expect, it } from "vitest";
import { TEST_API_KEY_ENV, TEST_SECRET } from "../test-support/test-api.js";

const BASE = { OTP_SECRET: TEST_SECRET, ...TEST_API_KEY_ENV };

describe("delivery receipt configuration", () => {
  it("drops a trailing slash from PUBLIC_BASE_URL and defaults the Vonage method to md5hash", () => {
    const config = loadApiConfig({ ...BASE, PUBLIC_BASE_URL: "https://otp.example.test:8443/" });

    expect(config.PUBLIC_BASE_URL).toBe("https://otp.example.test:8443");
    expect(config.VONAGE_SIGNATURE_METHOD).toBe("md5hash");
  });

  it("rejects a PUBLIC_BASE_URL with a query and an unknown Vonage method", () => {
    const load = () =>
      loadApiConfig({ ...BASE, PUBLIC_BASE_URL: "https://otp.example.test/?a=1", VONAGE_SIGNATURE_METHOD: "sha384" });

    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      const variables = (error as ConfigError).problems.map((problem) => problem.variable);
      expect(variables).toEqual(expect.arrayContaining(["PUBLIC_BASE_URL", "VONAGE_SIGNATURE_METHOD"]));
    }
  });

  it("gives the worker PUBLIC_BASE_URL for callback URLs", () => {
    expect(
      loadWorkerConfig({
        OTP_SECRET: TEST_SECRET,
        PUBLIC_BASE_URL: "https://otp.example.test",
        TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
        TWILIO_AUTH_TOKEN: "t",
        TWILIO_FROM: "+15005550006",
      }).PUBLIC_BASE_URL,
    ).toBe("https://otp.example.test");
  });
});
