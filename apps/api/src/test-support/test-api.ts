import { createHash, randomUUID } from "node:crypto";
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
  secretPayloadSchema,
} from "@otpin/core";
import { deleteKeys } from "@otpin/core/testing";
import { Queue } from "bullmq";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { Redis } from "ioredis";
import { type BuildApiOptions, buildApi } from "../app.js";

export const TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef";
export const TEST_REDIS_URL = "redis://127.0.0.1:6379";

/** API key every test app accepts; `withTestApiKey` sends it on each injected request. */
export const TEST_API_KEY = "otpin_test-key-0123456789abcdef0123456789abcdef";
/** Environment that makes the API accept TEST_API_KEY under the name `test`. */
export const TEST_API_KEY_ENV = { API_KEYS: `test:${createHash("sha256").update(TEST_API_KEY).digest("hex")}` };
/**
 * Turns the send limits off, and keeps older codes valid after a new send, so tests that send
 * many codes to one number are not refused. Tests of these defences pass their own values.
 */
export const LIMITS_OFF_ENV = {
  RECIPIENT_COOLDOWN_SECONDS: "0",
  RECIPIENT_HOURLY_LIMIT: "0",
  API_KEY_LIMIT: "0",
  NUMBER_RANGE_LIMIT: "0",
  CLIENT_IP_LIMIT: "0",
  SPEND_BUDGET_PER_HOUR: "off",
  INVALIDATE_PREVIOUS_CODES: "false",
};

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
  /** Reads the code of verification `id` from its queued job, as the worker decrypts it. */
  codeOf: (id: string) => Promise<string>;
  /** Advances the API's clock and the clock its limits count in, in milliseconds. */
  advanceClock: (ms: number) => void;
  /** Closes the app, deletes every key under the test prefix and closes the connections. */
  close: () => Promise<void>;
}

/** Builds an API on a fresh `test-<uuid>` QUEUE_PREFIX so parallel test files never share keys. */
export async function createTestApi(
  env: Record<string, string> = {},
  options: Partial<Omit<BuildApiOptions, "config">> = {},
): Promise<TestApi> {
  const config = loadApiConfig({
    OTP_SECRET: TEST_SECRET,
    QUEUE_PREFIX: `test-${randomUUID()}`,
    REDIS_URL: TEST_REDIS_URL,
    LOG_LEVEL: "silent",
    ...TEST_API_KEY_ENV,
    ...LIMITS_OFF_ENV,
    ...env,
  });
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  const app = withTestApiKey(
    await buildApi({
      config,
      logger: createLogger("otpin-api-test", config.LOG_LEVEL),
      // Limits count in the same movable clock, so tests step past windows instead of sleeping.
      clock,
      limitClock: clock,
      ...options,
    }),
  );
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
    codeOf: async (id) => {
      const job = await queue.getJob(id);
      if (job === undefined) throw new Error(`job ${id} was not queued`);
      return secretPayloadSchema.parse(testApi.cipher.decrypt(job.data.payload, id)).code;
    },
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

/**
 * Makes `app.inject` send `Authorization: Bearer TEST_API_KEY` unless the request sets its own
 * authorization header (an empty one sends none), so tests read like calls from an authorised app.
 */
export function withTestApiKey(app: FastifyInstance): FastifyInstance {
  const inject = app.inject.bind(app) as (options: InjectOptions) => Promise<LightMyRequestResponse>;
  const injectWithKey = (options: InjectOptions) => {
    const headers = { ...(options.headers ?? {}) } as Record<string, string>;
    if (!("authorization" in headers)) headers.authorization = `Bearer ${TEST_API_KEY}`;
    else if (headers.authorization === "") delete headers.authorization;
    return inject({ ...options, headers });
  };
  Object.assign(app, { inject: injectWithKey });
  return app;
}

export { deleteKeys };

/** Sends a JSON POST through fastify's inject. */
export function postJson(app: FastifyInstance, url: string, body: unknown): Promise<LightMyRequestResponse> {
  return app.inject({ method: "POST", url, headers: { "content-type": "application/json" }, payload: JSON.stringify(body) });
}
