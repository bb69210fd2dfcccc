import { ConfigError, DEMO_OTP_SECRET, loadApiConfig } from "@otpin/core";
import { describe, expect, test } from "vitest";
import { TEST_API_KEY_ENV, TEST_SECRET } from "./test-support/test-api.js";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadApiConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("loadApiConfig accepted an invalid environment");
}

describe("loadApiConfig", () => {
  test("rejects a missing OTP_SECRET outside demo mode", () => {
    const error = configError({ ...TEST_API_KEY_ENV });

    expect(error.problems.map((problem) => problem.variable)).toEqual(["OTP_SECRET"]);
    expect(error.message).toContain("OTP_SECRET: missing");
  });

  test("uses the demo secret in demo mode", () => {
    expect(loadApiConfig({ DEMO_MODE: "true" }).OTP_SECRET).toBe(DEMO_OTP_SECRET);
  });

  test("rejects PORT=abc", () => {
    const error = configError({ ...TEST_API_KEY_ENV, OTP_SECRET: TEST_SECRET, PORT: "abc" });

    expect(error.problems.map((problem) => problem.variable)).toEqual(["PORT"]);
    expect(error.message).toMatch(/PORT: expected a port number/);
  });

  test("rejects a REDIS_URL that is not redis://", () => {
    const error = configError({ ...TEST_API_KEY_ENV, OTP_SECRET: TEST_SECRET, REDIS_URL: "http://127.0.0.1:6379" });

    expect(error.problems.map((problem) => problem.variable)).toEqual(["REDIS_URL"]);
    expect(error.message).toContain("REDIS_URL: expected a URL starting with redis:// or rediss://");
  });

  test("names every bad variable at once", () => {
    const error = configError({ ...TEST_API_KEY_ENV, OTP_SECRET: TEST_SECRET, PORT: "abc", REDIS_URL: "not a url" });

    expect(error.problems.map((problem) => problem.variable).sort()).toEqual(["PORT", "REDIS_URL"]);
  });

  test("applies API defaults", () => {
    const config = loadApiConfig({ ...TEST_API_KEY_ENV, OTP_SECRET: TEST_SECRET });

    expect(config.PORT).toBe(3000);
    expect(config.BODY_LIMIT_BYTES).toBe(8192);
    expect(config.REDIS_COMMAND_TIMEOUT_MS).toBe(1500);
    expect(config.PHONE_ALLOWED_TYPES).toEqual(["MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP", "PERSONAL_NUMBER", "UNKNOWN"]);
  });
});
