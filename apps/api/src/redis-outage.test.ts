import { createLogger, DELIVERY_QUEUE, loadApiConfig } from "@otpin/core";
import { type JobState, Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildApi } from "./app.js";
import { PrivateRedisServer } from "./test-support/redis-server.js";
import { LIMITS_OFF_ENV, postJson, TEST_API_KEY_ENV, TEST_SECRET, withTestApiKey } from "./test-support/test-api.js";

const TO = { to: "+15005550006" };
const PUBLIC = "https://otp.example.test";
const RECEIPT_TOKEN = "twilio-outage-token";
/** Every state a job can be in, so a stray job is found wherever it sits. */
const JOB_STATES: JobState[] = ["waiting", "delayed", "active", "prioritized", "waiting-children", "completed", "failed"];

let server: PrivateRedisServer;
let app: FastifyInstance;

beforeAll(async () => {
  server = await PrivateRedisServer.start();
  const config = loadApiConfig({
    ...TEST_API_KEY_ENV,
    ...LIMITS_OFF_ENV,
    OTP_SECRET: TEST_SECRET,
    REDIS_URL: server.url,
    QUEUE_PREFIX: "outage",
    LOG_LEVEL: "silent",
    PUBLIC_BASE_URL: PUBLIC,
    TWILIO_AUTH_TOKEN: RECEIPT_TOKEN,
  });
  app = withTestApiKey(await buildApi({ config, logger: createLogger("otpin-api-test", "silent") }));
});

afterAll(async () => {
  await app?.close();
  await server?.stop();
});

/** Posts until the API accepts, so the test does not depend on ioredis's reconnect delay. */
async function postUntilAccepted(): Promise<{ statusCode: number; id: string | undefined }> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const response = await postJson(app, "/v1/otp", TO);
    if (response.statusCode === 202) return { statusCode: 202, id: (response.json() as { id: string }).id };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { statusCode: 503, id: undefined };
}

describe("Redis outage", () => {
  test("returns 503 while Redis is down and 202 after it returns", async () => {
    expect((await postUntilAccepted()).statusCode).toBe(202);

    await server.kill();
    const started = Date.now();
    const during = await postJson(app, "/v1/otp", TO);
    const elapsedMs = Date.now() - started;

    expect(during.statusCode).toBe(503);
    expect((during.json() as { error: { code: string } }).error.code).toBe("OTP_ERR_UNAVAILABLE");
    expect(elapsedMs).toBeLessThan(3000);
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(503);

    await server.restart();
    const after = await postUntilAccepted();
    expect(after.statusCode).toBe(202);

    const inspector = new Redis(server.url);
    const queue = new Queue(DELIVERY_QUEUE, { connection: inspector, prefix: "outage" });
    try {
      const jobs = await queue.getJobs(JOB_STATES);
      expect(jobs.map((job) => job.id)).toEqual([after.id]);
      const records = await inspector.keys("outage:otp:*");
      expect(records).toEqual([`outage:otp:${after.id}`]);
    } finally {
      await queue.close();
      await inspector.quit();
    }
  });

  test("returns 503 when Redis stops replying mid-request", async () => {
    await postUntilAccepted();
    const inspector = new Redis(server.url);
    const queue = new Queue(DELIVERY_QUEUE, { connection: inspector, prefix: "outage" });
    const recordsBefore = (await inspector.keys("outage:otp:*")).sort();
    const jobsBefore = await queue.getJobCountByTypes(...JOB_STATES);
    // DEBUG SLEEP blocks the server, so commands are sent but get no reply before the deadline passes.
    const blocker = new Redis(server.url);
    const sleeping = blocker.call("DEBUG", "SLEEP", "3");
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      const response = await postJson(app, "/v1/otp", TO);

      expect(response.statusCode).toBe(503);
      expect(Date.now() - started).toBeLessThan(3000);

      await sleeping;
      // The record written during the sleep and its cleanup DEL run once the server wakes, in that order.
      let records = (await inspector.keys("outage:otp:*")).sort();
      for (let attempt = 0; attempt < 20 && records.length !== recordsBefore.length; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        records = (await inspector.keys("outage:otp:*")).sort();
      }
      expect(records).toEqual(recordsBefore);
      expect(await queue.getJobCountByTypes(...JOB_STATES)).toBe(jobsBefore);
    } finally {
      blocker.disconnect();
      await queue.close();
      await inspector.quit();
    }
  });

  test("answers a signed receipt 503 when Redis stops replying, so the provider retries", async () => {
    await postUntilAccepted();
    const params = { MessageSid: `SM${"a".repeat(32)}`, MessageStatus: "delivered" };
    const postReceipt = () =>
      app.inject({
        method: "POST",
        url: "/v1/webhooks/twilio",
        headers: {
          authorization: "",
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": twilio.getExpectedTwilioSignature(RECEIPT_TOKEN, `${PUBLIC}/v1/webhooks/twilio`, params),
        },
        payload: new URLSearchParams(params).toString(),
      });
    expect((await postReceipt()).statusCode).toBe(200);

    const blocker = new Redis(server.url);
    const sleeping = blocker.call("DEBUG", "SLEEP", "3");
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const response = await postReceipt();

      expect(response.statusCode, response.body).toBe(503);
      expect(response.json()).toMatchObject({ error: { code: "OTP_ERR_UNAVAILABLE" } });
      await sleeping;
    } finally {
      blocker.disconnect();
    }
  });

  test("accepts requests once Redis starts after the API", async () => {
    const late = await PrivateRedisServer.reserve();
    const config = loadApiConfig({
      ...TEST_API_KEY_ENV,
      ...LIMITS_OFF_ENV,
      OTP_SECRET: TEST_SECRET,
      REDIS_URL: late.url,
      QUEUE_PREFIX: "late",
      LOG_LEVEL: "silent",
    });
    const lateApp = withTestApiKey(await buildApi({ config, logger: createLogger("otpin-api-test", "silent") }));
    try {
      const before = await postJson(lateApp, "/v1/otp", TO);
      expect(before.statusCode).toBe(503);

      await late.restart();
      let response = await postJson(lateApp, "/v1/otp", TO);
      for (let attempt = 0; attempt < 50 && response.statusCode !== 202; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        response = await postJson(lateApp, "/v1/otp", TO);
      }

      expect(response.statusCode).toBe(202);
      const inspector = new Redis(late.url);
      const queue = new Queue(DELIVERY_QUEUE, { connection: inspector, prefix: "late" });
      const { id } = response.json() as { id: string };
      expect((await queue.getJob(id))?.name).toBe("deliver");
      await queue.close();
      await inspector.quit();
    } finally {
      await lateApp.close();
      await late.stop();
    }
  });
});
