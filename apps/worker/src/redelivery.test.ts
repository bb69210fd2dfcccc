import { createLogger, createPayloadCipher, loadWorkerConfig, OtpStore } from "@otpin/core";
import { createSmsProviders } from "@otpin/providers";
import type { Job } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryChain } from "./delivery/index.js";
import { createDeliveryProcessor } from "./delivery-processor.js";
import { codeFrom, simulatorProviderEnv, TEST_SECRET, TestStack } from "./test-support/stack.js";

const logger = createLogger("test", "silent");
let stack: TestStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function processorFor(target: TestStack, storeOverride?: OtpStore) {
  const config = loadWorkerConfig({
    OTP_SECRET: TEST_SECRET,
    QUEUE_PREFIX: target.prefix,
    SMS_PROVIDERS: "twilio,plivo",
    ...simulatorProviderEnv(target.simulator.url),
  });
  const { chain } = createDeliveryChain(config, { providers: createSmsProviders(config), logger });
  const store = storeOverride ?? new OtpStore(target.redis, target.prefix);
  const processor = createDeliveryProcessor({
    store,
    cipher: createPayloadCipher(TEST_SECRET),
    chain,
    logger,
    appName: "Acme",
    ttlSeconds: 300,
  });
  return { processor, store };
}

/** The follow-up job the API enqueues after a route-error receipt, built from the original job. */
function redeliveryOf(job: Job, redelivery: { exclude: string[]; emailOnly: boolean }): Job {
  return { ...job, id: `${job.id}-redeliver`, data: { ...job.data, redelivery } } as Job;
}

describe("redelivery jobs", () => {
  it("re-sends once through the next provider", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const { processor, store } = processorFor(stack);
    const sent = await stack.send({ to: "+15005550010" });
    const job = (await stack.queue.getJob(String(sent.body.id))) as Job;
    await processor(job);
    const follow = redeliveryOf(job, { exclude: ["twilio"], emailOnly: false });

    const first = await processor(follow);
    const second = await processor(follow);

    expect(first).toMatchObject({ status: "sent", provider: "plivo" });
    expect(second).toMatchObject({ status: "sent", provider: "plivo", duplicate: true });
    expect(stack.simulator.requestCount("plivo")).toBe(1);
    const [twilio, plivo] = stack.simulator.messages({ to: "+15005550010" });
    expect(codeFrom(plivo?.body ?? "")).toBe(codeFrom(twilio?.body ?? ""));
    expect(await store.findByMessage("plivo", plivo?.id ?? "")).toBe(job.id);
  });

  it("enqueues the re-send an early route-error receipt calls for", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const store = new OtpStore(stack.redis, stack.prefix);
    // The provider's receipt lands after it accepted the message but before recordSubmission runs.
    const racingStore = Object.create(store) as OtpStore;
    racingStore.recordSubmission = async (id, provider, messageId, at) => {
      await store.holdReceipt(
        provider,
        { messageId, state: "undelivered", errorCode: "30034", at: Date.now(), policy: "route" },
        60_000,
      );
      return store.recordSubmission(id, provider, messageId, at);
    };
    const followUps: { jobId: string; data: unknown }[] = [];
    const config = loadWorkerConfig({
      OTP_SECRET: TEST_SECRET,
      QUEUE_PREFIX: stack.prefix,
      SMS_PROVIDERS: "twilio,plivo",
      ...simulatorProviderEnv(stack.simulator.url),
    });
    const { chain } = createDeliveryChain(config, { providers: createSmsProviders(config), logger });
    const processor = createDeliveryProcessor({
      store: racingStore,
      cipher: createPayloadCipher(TEST_SECRET),
      chain,
      logger,
      appName: "Acme",
      ttlSeconds: 300,
      addFollowUp: async (_job, jobId, data) => {
        followUps.push({ jobId, data });
      },
    });
    const sent = await stack.send({ to: "+15005550010" });
    const job = (await stack.queue.getJob(String(sent.body.id))) as Job;

    expect(await processor(job)).toMatchObject({ status: "sent", provider: "twilio" });

    const record = await store.get(String(job.id));
    expect(record?.delivery).toMatchObject({ status: "undelivered", errorCode: "30034", provider: "twilio" });
    expect(followUps).toEqual([
      { jobId: `${job.id}-redeliver`, data: { ...job.data, redelivery: { exclude: ["twilio"], emailOnly: false } } },
    ]);
    // The re-send itself never triggers another one, even when its own receipt raced too.
    const followUp = redeliveryOf(job, { exclude: ["twilio"], emailOnly: false });
    expect(await processor(followUp)).toMatchObject({ status: "sent", provider: "plivo" });
    expect(followUps).toHaveLength(1);
  });

  it("adds the held re-send to the job's own queue by default", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const store = new OtpStore(stack.redis, stack.prefix);
    const racingStore = Object.create(store) as OtpStore;
    racingStore.recordSubmission = async (id, provider, messageId, at) => {
      await store.holdReceipt(
        provider,
        { messageId, state: "undelivered", errorCode: "30003", at: Date.now(), policy: "handset" },
        60_000,
      );
      return store.recordSubmission(id, provider, messageId, at);
    };
    const { processor } = processorFor(stack, racingStore);
    const sent = await stack.send({ to: "+15005550011", email: "user@example.test" });
    const job = (await stack.queue.getJob(String(sent.body.id))) as Job;

    await processor(job);

    const followUp = await stack.queue.getJob(`${job.id}-redeliver`);
    expect(followUp?.data).toMatchObject({ otpId: job.id, redelivery: { exclude: ["twilio"], emailOnly: true } });
    expect(followUp?.opts).toMatchObject({ attempts: job.opts.attempts, backoff: job.opts.backoff });
  });

  it("skips a re-send with no route left", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const { processor } = processorFor(stack);
    const sent = await stack.send({ to: "+15005550010" });
    const job = (await stack.queue.getJob(String(sent.body.id))) as Job;
    await processor(job);

    const result = await processor(redeliveryOf(job, { exclude: ["twilio", "plivo"], emailOnly: false }));

    expect(result).toEqual({ status: "skipped" });
    expect(stack.simulator.requestCount()).toBe(1);
    expect((await stack.view(String(job.id))).status).toBe("sent");
  });

  it("skips an email-only re-send without an address", async () => {
    stack = await new TestStack({ withoutWorker: true }).start();
    const { processor } = processorFor(stack);
    const sent = await stack.send({ to: "+15005550011" });
    const job = (await stack.queue.getJob(String(sent.body.id))) as Job;
    await processor(job);

    const result = await processor(redeliveryOf(job, { exclude: ["twilio"], emailOnly: true }));

    expect(result).toEqual({ status: "skipped" });
    expect(stack.simulator.requestCount()).toBe(1);
  });
});
