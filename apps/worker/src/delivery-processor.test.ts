import { createLogger, createPayloadCipher, loadWorkerConfig, OtpStore } from "@otpin/core";
import { wrongCode } from "@otpin/core/testing";
import { createSmsProviders } from "@otpin/providers";
import type { Job } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryChain, type DeliveryChain } from "./delivery/index.js";
import { createDeliveryProcessor } from "./delivery-processor.js";
import { startDeliveryWorker } from "./delivery-worker.js";
import { simulatorProviderEnv, TEST_SECRET, TestStack } from "./test-support/stack.js";

const logger = createLogger("test", "silent");
let stack: TestStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function processorFor(target: TestStack, options: { chain?: Pick<DeliveryChain, "deliver">; now?: () => number } = {}) {
  const config = loadWorkerConfig({
    OTP_SECRET: TEST_SECRET,
    QUEUE_PREFIX: target.prefix,
    SMS_PROVIDERS: "twilio",
    ...simulatorProviderEnv(target.simulator.url),
  });
  const { chain } = createDeliveryChain(config, { providers: createSmsProviders(config), logger });
  const counters = { duplicates: 0, completed: [] as string[] };
  const processor = createDeliveryProcessor({
    store: new OtpStore(target.redis, target.prefix),
    cipher: createPayloadCipher(TEST_SECRET),
    chain: options.chain ?? chain,
    logger,
    appName: "Acme",
    ttlSeconds: 300,
    now: options.now,
    observer: {
      duplicateSuppressed: () => {
        counters.duplicates += 1;
      },
      jobCompleted: (status) => counters.completed.push(status),
    },
  });
  return { processor, chain, counters, config };
}

async function queuedJob(target: TestStack, to = "+15005550006"): Promise<Job> {
  const sent = await target.send({ to });
  expect(sent.status).toBe(202);
  const job = await target.queue.getJob(String(sent.body.id));
  if (!job) throw new Error("job not found");
  return job;
}

describe("delivery processor", () => {
  it("sends once when the same job runs twice", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const { processor, counters } = processorFor(stack);
    const job = await queuedJob(stack);

    const first = await processor(job);
    const second = await processor(job);

    expect(first).toMatchObject({ status: "sent", provider: "twilio" });
    expect(second).toMatchObject({ status: "sent", provider: "twilio", duplicate: true });
    expect(stack.simulator.requestCount("twilio")).toBe(1);
    expect(counters.duplicates).toBe(1);
    expect((await stack.view(String(job.id))).status).toBe("sent");
  });

  it("never schedules a retry that would land after the code expires", async () => {
    stack = await new TestStack({
      withoutWorker: true,
      apiEnv: { OTP_TTL_SECONDS: "30", JOB_ATTEMPTS: "5", JOB_BACKOFF_MS: "1000" },
    }).start();
    stack.simulator.setBehaviour("twilio", { failure: { status: 503 } });
    const job = await queuedJob(stack);
    // 29.5 s after creation the next back-off (1 s) would end after the 30 s expiry.
    const { processor, counters } = processorFor(stack, { now: () => Date.now() + 29_500 });

    await expect(processor(job)).rejects.toMatchObject({ name: "UnrecoverableError" });

    const view = await stack.view(String(job.id));
    expect(view.status).toBe("failed");
    expect(view.reason).toMatch(/provider_unavailable/);
    expect(counters.completed).toEqual(["failed"]);
  });

  it("retries a transient failure while time remains", async () => {
    stack = await new TestStack({ withoutWorker: true, apiEnv: { JOB_ATTEMPTS: "3" } }).start();
    stack.simulator.setBehaviour("twilio", { failure: { status: 503 } });
    const job = await queuedJob(stack);
    const { processor } = processorFor(stack);

    const error = await processor(job).then(
      () => undefined,
      (reason: Error) => reason,
    );

    expect(error?.name).toBe("Error");
    expect(error?.message).toMatch(/provider_unavailable: twilio/);
    expect((await stack.view(String(job.id))).status).toBe("queued");
  });

  it("drops a job whose record the api deleted", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const { processor } = processorFor(stack);
    const job = await queuedJob(stack);
    await new OtpStore(stack.redis, stack.prefix).delete(String(job.id));

    expect(await processor(job)).toEqual({ status: "skipped" });
    expect(stack.simulator.requestCount()).toBe(0);
  });

  it("skips a superseded code", async () => {
    stack = await new TestStack({ withoutWorker: true, apiEnv: { INVALIDATE_PREVIOUS_CODES: "true" } }).start();
    const { processor, counters } = processorFor(stack);
    const older = await queuedJob(stack);
    const newer = await queuedJob(stack);

    expect(await processor(older)).toEqual({ status: "skipped" });
    expect(await processor(newer)).toMatchObject({ status: "sent" });

    expect(stack.simulator.requestCount()).toBe(1);
    const view = await stack.view(String(older.id));
    expect(view.status).toBe("failed");
    expect(view.reason).toMatch(/^superseded: /);
    expect(counters.completed).toEqual(["sent"]);
  });

  it("skips a code locked by guesses", async () => {
    stack = await new TestStack({ withoutWorker: true, apiEnv: { OTP_MAX_VERIFY_ATTEMPTS: "1" } }).start();
    const { processor } = processorFor(stack);
    const job = await queuedJob(stack);
    const wrong = wrongCode(await stack.codeOf(String(job.id)));
    expect((await stack.verify(String(job.id), wrong)).body).toMatchObject({ valid: false, attemptsRemaining: 0 });

    expect(await processor(job)).toEqual({ status: "skipped" });

    expect(stack.simulator.requestCount()).toBe(0);
    expect((await stack.view(String(job.id))).reason).toMatch(/^locked: /);
  });

  it("fails a job whose payload does not decrypt without retrying", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const { processor } = processorFor(stack);
    const job = await queuedJob(stack);
    const tampered = { ...job.data, payload: { ...job.data.payload, tag: Buffer.alloc(16).toString("base64") } };

    await expect(processor({ ...job, data: tampered } as Job)).rejects.toMatchObject({ name: "UnrecoverableError" });
    expect(stack.simulator.requestCount()).toBe(0);
    const view = await stack.view(String(job.id));
    expect(view.status).toBe("failed");
    expect(view.reason).toMatch(/OTP_SECRET/);
  });

  it("clears a retry note once a later attempt is accepted", async () => {
    stack = await new TestStack({ withoutWorker: true, apiEnv: { JOB_ATTEMPTS: "3" } }).start();
    stack.simulator.setBehaviour("twilio", { failure: { status: 503 }, failNext: 1 });
    const job = await queuedJob(stack);
    const { processor } = processorFor(stack);

    await expect(processor(job)).rejects.toThrow(/provider_unavailable/);
    expect((await stack.view(String(job.id))).reason).toMatch(/^retrying: /);
    await processor(job);

    const view = await stack.view(String(job.id));
    expect(view.status).toBe("sent");
    expect(view.reason).toBeUndefined();
  });
});

describe("delivery worker redelivery", () => {
  it("does not send twice when a blocked worker loses its lock", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const base = processorFor(stack);
    let blocked = false;
    const blockingChain: Pick<DeliveryChain, "deliver"> = {
      async deliver(request, ledger) {
        const outcome = await base.chain.deliver(request, ledger);
        if (!blocked) {
          blocked = true;
          // Block the event loop past the 1 s lock, as a long GC pause or a CPU-bound task would.
          const until = Date.now() + 2500;
          while (Date.now() < until) {
            // busy wait
          }
        }
        return outcome;
      },
    };
    const { processor, counters } = processorFor(stack, { chain: blockingChain });
    const connection = stack.redis.duplicate({ maxRetriesPerRequest: null });
    const worker = startDeliveryWorker({
      config: { ...base.config, WORKER_LOCK_DURATION_MS: 1000, WORKER_CONCURRENCY: 1 },
      connection,
      processor,
      logger,
      stalledIntervalMs: 1000,
    });
    try {
      const job = await queuedJob(stack);
      await expect
        .poll(async () => (await stack?.queue.getJob(String(job.id)))?.finishedOn, { timeout: 15_000, interval: 200 })
        .toBeDefined();

      expect(stack.simulator.requestCount("twilio")).toBe(1);
      expect(counters.duplicates).toBe(1);
      expect((await stack.view(String(job.id))).status).toBe("sent");
    } finally {
      await worker.close(true);
      connection.disconnect();
    }
  });
});

describe("delivery processor after a crash", () => {
  it("indexes the message id a crashed run left unindexed", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const job = await queuedJob(stack);
    const store = new OtpStore(stack.redis, stack.prefix);
    // The state a run leaves when it dies between recording the acceptance and the submission.
    expect(await store.recordAcceptance(String(job.id), "twilio", "sms", "SMdeadbeef")).toBe(true);
    const { processor } = processorFor(stack);

    const result = await processor(job);

    expect(result).toMatchObject({ status: "sent", duplicate: true });
    expect(stack.simulator.requestCount()).toBe(0);
    expect(await store.findByMessage("twilio", "SMdeadbeef")).toBe(String(job.id));
    expect((await stack.view(String(job.id))).delivery).toMatchObject({ status: "submitted" });
  });

  it("enqueues the re-send a receipt held during the crash calls for", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const job = await queuedJob(stack);
    const store = new OtpStore(stack.redis, stack.prefix);
    expect(await store.recordAcceptance(String(job.id), "twilio", "sms", "SMfeedface")).toBe(true);
    // Twilio reported the message undelivered (a route error) before any run indexed it.
    const heldFor = await store.holdReceipt(
      "twilio",
      { messageId: "SMfeedface", state: "undelivered", errorCode: "30034", at: Date.now(), policy: "route" },
      60_000,
    );
    expect(heldFor).toBeUndefined();
    const { processor } = processorFor(stack);

    expect(await processor(job)).toMatchObject({ status: "sent", duplicate: true });

    expect(stack.simulator.requestCount()).toBe(0);
    expect((await stack.view(String(job.id))).delivery).toMatchObject({ status: "undelivered", errorCode: "30034" });
    const followUp = await stack.queue.getJob(`${job.id}-redeliver`);
    expect(followUp?.data).toMatchObject({ otpId: job.id, redelivery: { exclude: ["twilio"], emailOnly: false } });
  });
});
