import { createLogger, loadApiConfig } from "@otpin/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildApi } from "../app.js";
import { createTestApi, TEST_API_KEY_ENV, TEST_SECRET, type TestApi } from "../test-support/test-api.js";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi();
});

afterAll(async () => {
  await api.close();
});

describe("health routes", () => {
  test("healthz returns ok", async () => {
    const response = await api.app.inject({ method: "GET", url: "/healthz" });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  test("readyz returns ok when Redis replies", async () => {
    // The first PING may run before the connection is ready, so readyz gets a few tries to turn ready.
    let response = await api.app.inject({ method: "GET", url: "/readyz" });
    for (let attempt = 0; attempt < 20 && response.statusCode !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      response = await api.app.inject({ method: "GET", url: "/readyz" });
    }

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  test("readyz returns 503 when Redis is unreachable", async () => {
    // Port 1 on 127.0.0.1 refuses connections, so no Redis ever replies.
    const config = loadApiConfig({
      ...TEST_API_KEY_ENV,
      OTP_SECRET: TEST_SECRET,
      REDIS_URL: "redis://127.0.0.1:1",
      REDIS_COMMAND_TIMEOUT_MS: "200",
      LOG_LEVEL: "silent",
    });
    const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 1000 });
    redis.on("error", () => undefined);
    const app = await buildApi({ config, redis, logger: createLogger("otpin-api-test", "silent") });
    try {
      const started = Date.now();
      const response = await app.inject({ method: "GET", url: "/readyz" });

      expect(response.statusCode).toBe(503);
      expect((response.json() as { error: { code: string } }).error.code).toBe("OTP_ERR_UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(2000);
      const healthz = await app.inject({ method: "GET", url: "/healthz" });
      expect(healthz.statusCode).toBe(200);
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});
