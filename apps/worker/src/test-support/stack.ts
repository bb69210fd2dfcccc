import { createHash, randomUUID } from "node:crypto";
import { type BuildApiOptions, buildApi } from "@otpin/api";
import {
  createLogger,
  createPayloadCipher,
  DELIVERY_QUEUE,
  type Logger,
  loadApiConfig,
  loadWorkerConfig,
  secretPayloadSchema,
} from "@otpin/core";
import { deleteKeys } from "@otpin/core/testing";
import { SIMULATOR_CREDENTIALS, type Simulator, startSimulator } from "@otpin/simulator";
import { Queue } from "bullmq";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { Redis } from "ioredis";
import { startWorkerApp, type WorkerApp, type WorkerAppOptions } from "../worker-app.js";

export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const TEST_SECRET = "stack-test-secret-0123456789abcdef01234";
/** API key the stack's API accepts (as `stack`); every request through `stack.api.inject` carries it. */
export const STACK_API_KEY = "otpin_stack-key-0123456789abcdef0123456789abcd";
/** Send limits off and older codes kept valid, so scenarios may send many codes to one number. */
export const STACK_LIMITS_OFF_ENV: Record<string, string> = {
  RECIPIENT_COOLDOWN_SECONDS: "0",
  RECIPIENT_HOURLY_LIMIT: "0",
  API_KEY_LIMIT: "0",
  NUMBER_RANGE_LIMIT: "0",
  CLIENT_IP_LIMIT: "0",
  SPEND_BUDGET_PER_HOUR: "off",
  INVALIDATE_PREVIOUS_CODES: "false",
};

/** Worker variables that point every provider at the simulator. */
export function simulatorProviderEnv(simulatorUrl: string): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: SIMULATOR_CREDENTIALS.twilio.accountSid,
    TWILIO_AUTH_TOKEN: SIMULATOR_CREDENTIALS.twilio.authToken,
    TWILIO_FROM: "+15005550006",
    TWILIO_API_URL: simulatorUrl,
    PLIVO_AUTH_ID: SIMULATOR_CREDENTIALS.plivo.authId,
    PLIVO_AUTH_TOKEN: SIMULATOR_CREDENTIALS.plivo.authToken,
    PLIVO_FROM: "+15005550006",
    PLIVO_API_URL: `${simulatorUrl}/v1/Account/${SIMULATOR_CREDENTIALS.plivo.authId}`,
    VONAGE_API_KEY: SIMULATOR_CREDENTIALS.vonage.apiKey,
    VONAGE_API_SECRET: SIMULATOR_CREDENTIALS.vonage.apiSecret,
    VONAGE_FROM: "otpin",
    VONAGE_API_URL: simulatorUrl,
  };
}

export interface StackOptions {
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  logger?: Logger;
  workerOptions?: Partial<Omit<WorkerAppOptions, "config" | "logger">>;
  /** Leaves the worker stopped; call startWorker() to start one. */
  withoutWorker?: boolean;
  /** Keeps the API's default limits (and supersession) instead of STACK_LIMITS_OFF_ENV. */
  withLimits?: boolean;
  /** Redis for the API, the worker and the stack's own connection; defaults to REDIS_URL. */
  redisUrl?: string;
  /** Extra buildApi options, such as event hooks. */
  apiOptions?: Partial<Omit<BuildApiOptions, "config" | "logger">>;
}

/**
 * A whole otpin deployment for tests: simulator, API (driven through fastify.inject) and worker,
 * on a Redis key prefix of its own that close() deletes.
 */
export class TestStack {
  readonly prefix = `test-${randomUUID()}`;
  readonly redis: Redis;
  readonly redisUrl: string;
  readonly queue: Queue;
  simulator!: Simulator;
  api!: FastifyInstance;
  workers: WorkerApp[] = [];
  private readonly logger: Logger;

  constructor(private readonly options: StackOptions = {}) {
    this.redisUrl = options.redisUrl ?? TEST_REDIS_URL;
    this.redis = new Redis(this.redisUrl);
    // Tests that stop Redis expect connection errors; without a listener ioredis prints each one.
    this.redis.on("error", () => undefined);
    this.logger = options.logger ?? createLogger("test", "silent");
    this.queue = new Queue(DELIVERY_QUEUE, { connection: this.redis, prefix: this.prefix });
  }

  get worker(): WorkerApp {
    const worker = this.workers[0];
    if (!worker) throw new Error("no worker started");
    return worker;
  }

  async start(): Promise<this> {
    this.simulator = await startSimulator();
    const apiConfig = loadApiConfig({
      ...this.sharedEnv(),
      API_KEYS: `stack:${createHash("sha256").update(STACK_API_KEY).digest("hex")}`,
      ...(this.options.withLimits ? {} : STACK_LIMITS_OFF_ENV),
      JOB_BACKOFF_MS: "100",
      ...this.options.apiEnv,
    });
    this.api = withApiKey(await buildApi({ config: apiConfig, logger: this.logger, ...this.options.apiOptions }), STACK_API_KEY);
    if (!this.options.withoutWorker) await this.startWorker();
    return this;
  }

  async startWorker(extraEnv: Record<string, string> = {}, options: StackOptions["workerOptions"] = {}): Promise<WorkerApp> {
    const config = loadWorkerConfig({
      ...this.sharedEnv(),
      METRICS_PORT: "0",
      PROVIDER_TIMEOUT_MS: "1000",
      BREAKER_TIMEOUT_MS: "3000",
      ...simulatorProviderEnv(this.simulator.url),
      ...this.options.workerEnv,
      ...extraEnv,
    });
    const worker = await startWorkerApp({ config, logger: this.logger, ...this.options.workerOptions, ...options });
    this.workers.push(worker);
    return worker;
  }

  private sharedEnv(): Record<string, string> {
    return { REDIS_URL: this.redisUrl, QUEUE_PREFIX: this.prefix, OTP_SECRET: TEST_SECRET, APP_NAME: "Acme" };
  }

  async send(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await this.api.inject({ method: "POST", url: "/v1/otp", payload: body });
    return { status: response.statusCode, body: response.json() };
  }

  async verify(id: string, code: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await this.api.inject({ method: "POST", url: `/v1/otp/${id}/verify`, payload: { code } });
    return { status: response.statusCode, body: response.json() };
  }

  /** Reads the code of verification `id` from its queued job, as the worker decrypts it. */
  async codeOf(id: string): Promise<string> {
    const job = await this.queue.getJob(id);
    if (job === undefined) throw new Error(`job ${id} was not queued`);
    return secretPayloadSchema.parse(createPayloadCipher(TEST_SECRET).decrypt(job.data.payload, id)).code;
  }

  async view(id: string): Promise<Record<string, unknown> & { status: string; attempts: Record<string, unknown>[] }> {
    const response = await this.api.inject({ method: "GET", url: `/v1/otp/${id}` });
    return response.json();
  }

  /** Polls GET /v1/otp/:id until its status is one of `statuses`; throws with the last view on timeout. */
  async waitForStatus(id: string, statuses: string[], timeoutMs = 10_000): Promise<Awaited<ReturnType<TestStack["view"]>>> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.view(id);
    while (!statuses.includes(last.status)) {
      if (Date.now() > deadline) throw new Error(`otp ${id} stayed ${last.status}: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      last = await this.view(id);
    }
    return last;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((worker) => worker.close()));
    await this.api?.close();
    await this.simulator?.close();
    await this.queue.close();
    await deleteKeys(this.redis, `${this.prefix}:*`);
    this.redis.disconnect();
  }
}

/**
 * Makes `app.inject` send `Authorization: Bearer <key>` unless the request sets its own
 * authorization header (an empty one sends none).
 */
function withApiKey(app: FastifyInstance, key: string): FastifyInstance {
  const inject = app.inject.bind(app) as (options: InjectOptions) => Promise<LightMyRequestResponse>;
  const injectWithKey = (options: InjectOptions) => {
    const headers = { ...(options.headers ?? {}) } as Record<string, string>;
    if (!("authorization" in headers)) headers.authorization = `Bearer ${key}`;
    else if (headers.authorization === "") delete headers.authorization;
    return inject({ ...options, headers });
  };
  Object.assign(app, { inject: injectWithKey });
  return app;
}

/** Extracts the code from an SMS or email body. */
export function codeFrom(text: string): string {
  const code = /\b(\d{4,10})\b/.exec(text)?.[1];
  if (code === undefined) throw new Error("no code found in the message");
  return code;
}
