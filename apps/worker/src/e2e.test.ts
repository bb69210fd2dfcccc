import { createHash, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { buildApi } from "@otpin/api";
import { createLogger, loadApiConfig, loadWorkerConfig } from "@otpin/core";
import { deleteKeys, dumpKeys } from "@otpin/core/testing";
import { SIMULATOR_CREDENTIALS, type Simulator, startSimulator } from "@otpin/simulator";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerApp, type WorkerApp } from "./worker-app.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SECRET = "e2e-secret-0123456789abcdef0123456789";
const TO = "+15005550006";
const API_KEY = "otpin_e2e-key-0123456789abcdef0123456789abcdef";
const AUTH = { authorization: `Bearer ${API_KEY}` };

describe("end to end through the real twilio sdk", () => {
  const prefix = `e2e-${randomUUID()}`;
  const logger = createLogger("e2e", "silent");
  let simulator: Simulator;
  let api: FastifyInstance;
  let apiUrl: string;
  let worker: WorkerApp;
  let redis: Redis;

  beforeAll(async () => {
    simulator = await startSimulator();
    redis = new Redis(REDIS_URL);
    const shared = { REDIS_URL, QUEUE_PREFIX: prefix, OTP_SECRET: SECRET, APP_NAME: "Acme" };
    const apiKeys = `e2e:${createHash("sha256").update(API_KEY).digest("hex")}`;
    api = await buildApi({ config: loadApiConfig({ ...shared, PORT: "0", API_KEYS: apiKeys }), logger });
    await api.listen({ host: "127.0.0.1", port: 0 });
    apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    worker = await startWorkerApp({
      logger,
      config: loadWorkerConfig({
        ...shared,
        METRICS_PORT: "0",
        SMS_PROVIDERS: "twilio",
        TWILIO_ACCOUNT_SID: SIMULATOR_CREDENTIALS.twilio.accountSid,
        TWILIO_AUTH_TOKEN: SIMULATOR_CREDENTIALS.twilio.authToken,
        TWILIO_FROM: "+15005550006",
        TWILIO_API_URL: simulator.url,
      }),
    });
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await simulator?.close();
    await deleteKeys(redis, `${prefix}:*`);
    redis?.disconnect();
  });

  async function post(path: string, body: unknown) {
    const response = await fetch(`${apiUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...AUTH },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function status(id: string) {
    const response = await fetch(`${apiUrl}/v1/otp/${id}`, { headers: AUTH });
    return (await response.json()) as Record<string, unknown>;
  }

  it("delivers a code and verifies it once", async () => {
    const sent = await post("/v1/otp", { to: TO });
    expect(sent.status).toBe(202);
    expect(sent.body.status).toBe("queued");
    const id = String(sent.body.id);

    const message = await simulator.waitForMessage({ to: TO, provider: "twilio" }, 10_000);
    const code = /\b(\d{6})\b/.exec(message.body)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    expect(message.body).toContain("Acme");
    expect(message.from).toBe("+15005550006");

    await expect.poll(async () => (await status(id)).status, { timeout: 5000 }).toBe("sent");
    const sentView = await status(id);
    expect(sentView.to).toBe("+15005****06");
    expect(sentView.channel).toBe("sms");
    const attempts = sentView.attempts as Record<string, unknown>[];
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.provider).toBe("twilio");
    expect(attempts[0]?.outcome).toBe("accepted");
    expect(JSON.stringify(sentView)).not.toContain(String(code));

    const wrongCode = code === "000000" ? "111111" : "000000";
    const wrong = await post(`/v1/otp/${id}/verify`, { code: wrongCode });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toEqual({ id, valid: false, attemptsRemaining: 4 });

    const right = await post(`/v1/otp/${id}/verify`, { code });
    expect(right.status).toBe(200);
    expect(right.body).toEqual({ id, valid: true });
    expect((await status(id)).status).toBe("verified");

    const again = await post(`/v1/otp/${id}/verify`, { code });
    expect(again.status).toBe(409);
    expect((again.body.error as Record<string, unknown>).code).toBe("OTP_ERR_ALREADY_VERIFIED");

    // Nothing in Redis under this deployment's prefix contains the code or the full number.
    const dump = await dumpKeys(redis, `${prefix}:*`);
    expect(dump.size).toBeGreaterThan(0);
    // Digit boundaries keep a timestamp that happens to contain the six digits from matching.
    const leaks = [new RegExp(`(?<!\\d)${code}(?!\\d)`), new RegExp(`(?<!\\d)${TO.slice(1)}(?!\\d)`)];
    for (const [key, value] of dump) {
      for (const leak of leaks) {
        expect(key, `key ${key}`).not.toMatch(leak);
        expect(value, `value of ${key}`).not.toMatch(leak);
      }
    }
  });
});
