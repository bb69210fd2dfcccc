import { ConfigError, loadApiConfig } from "@otpin/core";
import { describe, expect, test } from "vitest";
import { TEST_SECRET } from "../test-support/test-api.js";
import { ApiKeyRing, hashApiKey, mintApiKey, resolveApiKeys } from "./api-keys.js";

describe("API keys", () => {
  test("mints a random key whose entry holds only its SHA-256", () => {
    const first = mintApiKey("shop");
    const second = mintApiKey("shop");

    expect(first.key).toMatch(/^otpin_[A-Za-z0-9_-]{43}$/);
    expect(first.key).not.toBe(second.key);
    expect(first.entry).toBe(`shop:${hashApiKey(first.key)}`);
    expect(first.entry).not.toContain(first.key);
  });

  test("refuses a key name that API_KEYS could not hold", () => {
    expect(() => mintApiKey("has space")).toThrow(/key name/);
    expect(() => mintApiKey("a:b")).toThrow(/key name/);
  });

  test("identifies a key by name and refuses unknown ones", () => {
    const shop = mintApiKey("shop");
    const admin = mintApiKey("admin");
    const config = loadApiConfig({ OTP_SECRET: TEST_SECRET, API_KEYS: `${shop.entry}, ${admin.entry}` });
    const ring = new ApiKeyRing(config.API_KEYS ?? []);

    expect(ring.identify(shop.key)).toBe("shop");
    expect(ring.identify(admin.key)).toBe("admin");
    expect(ring.identify(`${shop.key}x`)).toBeUndefined();
    expect(ring.identify(hashApiKey(shop.key))).toBeUndefined();
  });

  test("requires API_KEYS outside demo mode, naming the variable", () => {
    try {
      loadApiConfig({ OTP_SECRET: TEST_SECRET });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((problem) => problem.variable)).toEqual(["API_KEYS"]);
    }
  });

  test.each([
    ["a key instead of a hash", "shop:otpin_abc"],
    ["a missing name", ":0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
    ["a name listed twice", `a:${"0".repeat(64)},a:${"1".repeat(64)}`],
  ])("rejects API_KEYS with %s", (_name, value) => {
    expect(() => loadApiConfig({ OTP_SECRET: TEST_SECRET, API_KEYS: value })).toThrow(/API_KEYS/);
  });

  test("prints one dev key in demo mode without API_KEYS", () => {
    const written: string[] = [];
    const ring = resolveApiKeys(loadApiConfig({ DEMO_MODE: "true" }), (text) => written.push(text));

    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/WARNING/);
    const key = /Bearer (otpin_\S+)/.exec(written[0] ?? "")?.[1] ?? "";
    expect(ring.identify(key)).toBe("demo");
  });

  test("refuses to start without keys outside demo mode", () => {
    const config = { ...loadApiConfig({ OTP_SECRET: TEST_SECRET, API_KEYS: mintApiKey("x").entry }), API_KEYS: undefined };

    expect(() => resolveApiKeys(config, () => undefined)).toThrow(ConfigError);
  });
});
