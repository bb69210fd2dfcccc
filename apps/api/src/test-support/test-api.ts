import { randomUUID } from "node:crypto";
import {
  type ApiConfig,
  createLogger,
  createPayloadCipher,
  DELIVERY_QUEUE,
  type DeliveryJobData,
  deriveKeys,
  loadApiConfig,
  OtpStore,
  type PayloadCipher,
} from "@otpin/core";
import { Queue } from "bullmq";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { Redis } from "ioredis";
import { buildApi } from "../app.js";

export const TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef";
export const TEST_REDIS_URL = "redis://127.0.0.1:6379";

/** A built API plus the parts a test inspects directly. */
export interface TestApi {
  app: FastifyInstance;
  config: ApiConfig;
  /** Separate connection for inspecting and seeding Redis. */
  redis: Redis;
  store: OtpStore;
  queue: Queue<DeliveryJobData>;
  cipher: PayloadCipher;
  codeHashKey: Buffer;
  /** Advances the API's clock, in milliseconds. */
  advanceClock: (ms: number) => void;
  /** Closes the app, deletes every key under the test prefix and closes the connections. */
  close: () => Promise<void>;
}

/** Builds an API on a fresh `test-<uuid>` QUEUE_PREFIX so parallel test files never share keys. */
export async function createTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const config = loadApiConfig({
    OTP_SECRET: TEST_SECRET,
    QUEUE_PREFIX: `test-${randomUUID()}`,
    REDIS_URL: TEST_REDIS_URL,
    LOG_LEVEL: "silent",
    ...env,
  });
  let offsetMs = 0;
  const app = await buildApi({
    config,
    logger: createLogger("otpin-api-test", config.LOG_LEVEL),
    clock: () => Date.now() + offsetMs,
  });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix: config.QUEUE_PREFIX });
  const testApi: TestApi = {
    app,
    config,
    redis,
    store: new OtpStore(redis, config.QUEUE_PREFIX),
    queue,
    cipher: createPayloadCipher(config.OTP_SECRET),
    codeHashKey: deriveKeys(config.OTP_SECRET).codeHashKey,
    advanceClock: (ms) => {
      offsetMs += ms;
    },
    close: async () => {
      // A test may have swapped in another app, so close whichever is current.
      await testApi.app.close();
      await queue.close();
      await deleteKeys(redis, `${config.QUEUE_PREFIX}:*`);
      await redis.quit();
    },
  };
  return testApi;
}

/** Deletes every key matching `pattern`, with a bounded number of SCAN rounds. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  for (let round = 0; round < 10_000; round += 1) {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
    if (cursor === "0") return;
  }
}

/** Sends a JSON POST through fastify's inject. */
export function postJson(app: FastifyInstance, url: string, body: unknown): Promise<LightMyRequestResponse> {
  return app.inject({ method: "POST", url, headers: { "content-type": "application/json" }, payload: JSON.stringify(body) });
}
