import { ConfigError, loadApiConfig } from "@otpin/core";
import { describe, expect, test } from "vitest";
import { TEST_API_KEY_ENV, TEST_SECRET } from "./test-support/test-api.js";

describe("PHONE_ALLOWED_TYPES with garbage", () => {
  // A misspelt type would otherwise pass start-up and make every POST /v1/otp fail with 400.
  test.each(["MOBLIE", "garbage", "mobile;voip"])("rejects %s by name", (value) => {
    let caught: unknown;
    try {
      loadApiConfig({ OTP_SECRET: TEST_SECRET, ...TEST_API_KEY_ENV, PHONE_ALLOWED_TYPES: value });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.map((problem) => problem.variable)).toEqual(["PHONE_ALLOWED_TYPES"]);
  });
});
