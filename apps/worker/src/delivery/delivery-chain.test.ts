// Pure policy tests: the providers, the email channel and most ledgers are scripted in-test fakes
// (see test-fakes.ts); the breakers are real opossum instances. One test writes to a real
// OtpStore in Redis.
import { randomUUID } from "node:crypto";
import { type DeliveryErrorClass, OtpStore, type SmsProviderName } from "@otpin/core";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { BreakerSettings } from "./breaker-settings.js";
import { DeliveryChain, type DeliveryChainOptions, type DeliveryLedger, type DeliveryRequest } from "./delivery-chain.js";
import { ProviderBreakers } from "./provider-breakers.js";
import {
  captureLogger,
  FakeEmailChannel,
  type FakeResponse,
  FakeSmsProvider,
  MemoryLedger,
  RecordingObserver,
} from "./test-fakes.js";

const SETTINGS: BreakerSettings = {
  timeoutMs: 1000,
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeoutMs: 60_000,
  rollingCountTimeoutMs: 10_000,
};

const NUMBER = "+15005550006";
const BODY = "Your otpin code is 482913. It expires in 5 minutes. Do not share it.";

const REQUEST: DeliveryRequest = { otpId: "otp_chain_test", to: NUMBER, country: "US", smsBody: BODY };

const WITH_EMAIL: DeliveryRequest = {
  ...REQUEST,
  email: "user@example.com",
  emailContent: { subject: "Your otpin verification code", text: "Your otpin code is 482913.", html: "<p>482913</p>" },
};

const opened: ProviderBreakers[] = [];

afterEach(() => {
  for (const breakers of opened.splice(0)) breakers.shutdown();
});

interface Setup {
  email?: FakeEmailChannel;
  routes?: DeliveryChainOptions["routes"];
  throttleRetries?: number;
}

function setup(providerList: FakeSmsProvider[], options: Setup = {}) {
  const observer = new RecordingObserver();
  const { logger, lines, text } = captureLogger();
  const providers = new Map<SmsProviderName, FakeSmsProvider>(providerList.map((provider) => [provider.name, provider]));
  const breakers = new ProviderBreakers(providers, SETTINGS, logger, observer);
  opened.push(breakers);
  const sleeps: number[] = [];
  const chain = new DeliveryChain({
    breakers,
    order: providerList.map((provider) => provider.name),
    routes: options.routes,
    email: options.email,
    logger,
    observer,
    throttleRetries: options.throttleRetries,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { breakers, chain, observer, lines, text, sleeps, ledger: new MemoryLedger() };
}

function providers(...scripts: [SmsProviderName, ...FakeResponse[]][]): FakeSmsProvider[] {
  return scripts.map(([name, ...script]) => new FakeSmsProvider(name, script.length > 0 ? script : undefined));
}

describe("DeliveryChain error classes", () => {
  it.each<[DeliveryErrorClass, string]>([
    ["invalid_recipient", "21211"],
    ["opted_out", "21610"],
  ])("stops the SMS chain on %s", async (errorClass, code) => {
    const [twilio, plivo] = providers(["twilio", { fail: errorClass, code }], ["plivo"]);
    const { chain, ledger, observer } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toMatchObject({ status: "failed", retryable: false, errorClass });
    expect(plivo!.calls).toHaveLength(0);
    expect(observer.failovers).toEqual([]);
    expect(ledger.attempts).toMatchObject([{ provider: "twilio", outcome: "failed", errorClass, errorCode: code }]);
  });

  it.each<DeliveryErrorClass>(["invalid_recipient", "opted_out"])("sends email after %s", async (errorClass) => {
    const [twilio, plivo] = providers(["twilio", { fail: errorClass }], ["plivo"]);
    const email = new FakeEmailChannel();
    const { chain, ledger, observer } = setup([twilio!, plivo!], { email });

    const outcome = await chain.deliver(WITH_EMAIL, ledger);

    expect(outcome).toEqual({ status: "accepted", channel: "email", provider: "email", messageId: "email-msg-1" });
    expect(plivo!.calls).toHaveLength(0);
    expect(email.calls).toEqual([{ otpId: REQUEST.otpId, to: "user@example.com", ...WITH_EMAIL.emailContent }]);
    expect(observer.emailFallbacks).toEqual(["accepted"]);
    expect(ledger.acceptances).toEqual([{ provider: "email", channel: "email" }]);
  });

  it("fails over on not_permitted without counting it", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "not_permitted", code: "21408" }], ["plivo"]);
    const { chain, ledger, breakers, observer } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toMatchObject({ status: "accepted", channel: "sms", provider: "plivo" });
    expect(observer.failovers).toEqual([["twilio", "plivo"]]);
    expect(breakers.stats("twilio").failures).toBe(0);
  });

  it.each<DeliveryErrorClass>(["provider_unavailable", "timeout", "auth", "unknown"])("fails over on %s", async (errorClass) => {
    const [twilio, plivo] = providers(["twilio", { fail: errorClass, code: "E1" }], ["plivo"]);
    const { chain, ledger, breakers, observer } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toMatchObject({ status: "accepted", channel: "sms", provider: "plivo" });
    expect(observer.failovers).toEqual([["twilio", "plivo"]]);
    expect(breakers.stats("twilio").failures).toBe(1);
    expect(ledger.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass])).toEqual([
      ["twilio", "failed", errorClass],
      ["plivo", "accepted", undefined],
    ]);
  });

  it("fails over with the same body after unknown", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "unknown" }], ["plivo"]);
    const { chain, ledger } = setup([twilio!, plivo!]);

    await chain.deliver(REQUEST, ledger);

    expect(twilio!.calls).toEqual([{ otpId: REQUEST.otpId, to: NUMBER, body: BODY }]);
    expect(plivo!.calls).toEqual([{ otpId: REQUEST.otpId, to: NUMBER, body: BODY }]);
  });

  it("fails over on an untyped provider error", async () => {
    const [twilio, plivo] = providers(["twilio", { throw: new TypeError("cannot read properties of undefined") }], ["plivo"]);
    const { chain, ledger } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toMatchObject({ status: "accepted", provider: "plivo" });
    expect(ledger.attempts[0]).toMatchObject({ provider: "twilio", outcome: "failed", errorClass: "unknown" });
  });
});

describe("DeliveryChain throttling", () => {
  it("retries the same provider when throttled", async () => {
    const [twilio, plivo] = providers(
      ["twilio", { fail: "throttled", code: "20429" }, { fail: "throttled", code: "20429" }, { accept: true }],
      ["plivo"],
    );
    const { chain, ledger, observer, sleeps } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toEqual({ status: "accepted", channel: "sms", provider: "twilio", messageId: "twilio-msg-3" });
    expect(ledger.acceptances).toEqual([{ provider: "twilio", channel: "sms" }]);
    expect(observer.retries).toEqual([
      ["twilio", "throttled"],
      ["twilio", "throttled"],
    ]);
    expect(sleeps).toEqual([250, 500]);
    expect(plivo!.calls).toHaveLength(0);
    expect(twilio!.calls.every((message) => message.body === BODY)).toBe(true);
  });

  it("fails over when throttled beyond the retries", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "throttled", code: "20429" }], ["plivo"]);
    const { chain, ledger, observer, sleeps } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toMatchObject({ status: "accepted", provider: "plivo" });
    expect(twilio!.calls).toHaveLength(3);
    expect(observer.retries).toHaveLength(2);
    expect(sleeps).toEqual([250, 500]);
    expect(observer.failovers).toEqual([["twilio", "plivo"]]);
    expect(ledger.attempts.map((attempt) => attempt.outcome)).toEqual(["failed", "failed", "failed", "accepted"]);
  });

  it("fails over at once with zero throttle retries", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "throttled" }], ["plivo"]);
    const { chain, ledger, sleeps } = setup([twilio!, plivo!], { throttleRetries: 0 });

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toMatchObject({ status: "accepted", provider: "plivo" });
    expect(twilio!.calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe("DeliveryChain order", () => {
  it("skips a provider whose breaker is open", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "provider_unavailable", code: "503" }], ["plivo"]);
    const { chain, breakers, observer } = setup([twilio!, plivo!]);
    for (let send = 0; send < 6; send++) await chain.deliver(REQUEST, new MemoryLedger());
    expect(breakers.state("twilio")).toBe("open");
    const callsBefore = twilio!.calls.length;
    const failoversBefore = observer.failovers.length;

    const ledger = new MemoryLedger();
    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toMatchObject({ status: "accepted", provider: "plivo" });
    expect(twilio!.calls).toHaveLength(callsBefore);
    expect(ledger.attempts.map((attempt) => attempt.provider)).toEqual(["plivo"]);
    expect(observer.failovers).toHaveLength(failoversBefore);
  });

  it("uses the route for the number's country", async () => {
    const [twilio, plivo, vonage] = providers(["twilio"], ["plivo"], ["vonage"]);
    const { chain } = setup([twilio!, plivo!, vonage!], { routes: { IN: ["vonage", "twilio"] } });

    const routed = await chain.deliver({ ...REQUEST, to: "+919876543210", country: "IN" }, new MemoryLedger());
    const lowerCase = await chain.deliver({ ...REQUEST, to: "+919876543210", country: "in" }, new MemoryLedger());
    const unrouted = await chain.deliver({ ...REQUEST, country: "GB" }, new MemoryLedger());
    const noCountry = await chain.deliver({ ...REQUEST, country: null }, new MemoryLedger());

    expect(routed).toMatchObject({ provider: "vonage" });
    expect(lowerCase).toMatchObject({ provider: "vonage" });
    expect(unrouted).toMatchObject({ provider: "twilio" });
    expect(noCountry).toMatchObject({ provider: "twilio" });
  });

  it("fails over along the route only", async () => {
    const [twilio, plivo, vonage] = providers(
      ["twilio", { fail: "provider_unavailable" }],
      ["plivo"],
      ["vonage", { fail: "timeout" }],
    );
    const { chain, observer } = setup([twilio!, plivo!, vonage!], { routes: { IN: ["vonage", "twilio"] } });

    const outcome = await chain.deliver({ ...REQUEST, country: "IN" }, new MemoryLedger());

    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(plivo!.calls).toHaveLength(0);
    expect(observer.failovers).toEqual([["vonage", "twilio"]]);
  });
});

describe("DeliveryChain outcomes", () => {
  it("fails unretryable with no route left", async () => {
    const [twilio, plivo] = providers(["twilio"], ["plivo"]);
    const { chain } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver({ ...REQUEST, excludeProviders: ["twilio", "plivo"] }, new MemoryLedger());

    expect(outcome).toEqual({
      status: "failed",
      retryable: false,
      noRoute: true,
      reason: "no sms provider is configured for this destination",
      errorClass: "provider_unavailable",
    });
    expect([...twilio!.calls, ...plivo!.calls]).toEqual([]);
  });

  it("falls back to email when every provider fails", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "provider_unavailable" }], ["plivo", { fail: "timeout" }]);
    const email = new FakeEmailChannel();
    const { chain, ledger, observer } = setup([twilio!, plivo!], { email });

    const outcome = await chain.deliver(WITH_EMAIL, ledger);

    expect(outcome).toEqual({ status: "accepted", channel: "email", provider: "email", messageId: "email-msg-1" });
    expect(ledger.attempts.map((attempt) => [attempt.provider, attempt.outcome])).toEqual([
      ["twilio", "failed"],
      ["plivo", "failed"],
      ["email", "accepted"],
    ]);
    expect(ledger.acceptances).toEqual([{ provider: "email", channel: "email" }]);
    expect(observer.emailFallbacks).toEqual(["accepted"]);
  });

  it("falls back to email when every breaker is open", async () => {
    const [twilio] = providers(["twilio", { fail: "provider_unavailable" }]);
    const email = new FakeEmailChannel();
    const { chain, breakers } = setup([twilio!], { email });
    for (let send = 0; send < 6; send++) await chain.deliver(REQUEST, new MemoryLedger());
    expect(breakers.state("twilio")).toBe("open");

    const withEmail = await chain.deliver(WITH_EMAIL, new MemoryLedger());
    const withoutEmail = await chain.deliver(REQUEST, new MemoryLedger());

    expect(withEmail).toMatchObject({ status: "accepted", channel: "email" });
    expect(withoutEmail).toEqual({
      status: "failed",
      retryable: true,
      errorClass: "provider_unavailable",
      reason: "provider_unavailable: twilio skipped because the circuit breaker is open",
    });
  });

  it("fails retryable when every provider fails without email", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "provider_unavailable", code: "503" }], ["plivo", { fail: "timeout" }]);
    const { chain, ledger } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toEqual({
      status: "failed",
      retryable: true,
      errorClass: "timeout",
      reason: "provider_unavailable: twilio was unavailable (503); timeout: plivo timed out",
    });
    expect(ledger.acceptances).toEqual([]);
  });

  it("fails not retryable on a recipient error without email", async () => {
    const [twilio] = providers(["twilio", { fail: "invalid_recipient", code: "21211" }]);
    const { chain } = setup([twilio!]);

    const outcome = await chain.deliver(REQUEST, new MemoryLedger());

    expect(outcome).toEqual({
      status: "failed",
      retryable: false,
      errorClass: "invalid_recipient",
      reason: "invalid_recipient: twilio rejected the number (21211)",
    });
  });

  it("fails retryable when the email fallback fails transiently", async () => {
    const [twilio] = providers(["twilio", { fail: "provider_unavailable" }]);
    const email = new FakeEmailChannel({ fail: "provider_unavailable", code: "421" });
    const { chain, ledger, observer } = setup([twilio!], { email });

    const outcome = await chain.deliver(WITH_EMAIL, ledger);

    expect(outcome).toEqual({
      status: "failed",
      retryable: true,
      errorClass: "provider_unavailable",
      reason: "provider_unavailable: twilio was unavailable; provider_unavailable: email (SMTP) was unavailable (421)",
    });
    expect(ledger.attempts.at(-1)).toMatchObject({ provider: "email", outcome: "failed", errorCode: "421" });
    expect(observer.emailFallbacks).toEqual(["failed"]);
  });

  it("fails not retryable when email rejects the address", async () => {
    const [twilio] = providers(["twilio", { fail: "timeout" }]);
    const email = new FakeEmailChannel({ fail: "invalid_recipient", code: "550" });
    const { chain } = setup([twilio!], { email });

    const outcome = await chain.deliver(WITH_EMAIL, new MemoryLedger());

    expect(outcome).toEqual({
      status: "failed",
      retryable: false,
      errorClass: "invalid_recipient",
      reason: "timeout: twilio timed out; invalid_recipient: email (SMTP) rejected the address (550)",
    });
  });

  it("stays not retryable when SMS hit a recipient error and email failed", async () => {
    const [twilio] = providers(["twilio", { fail: "opted_out", code: "21610" }]);
    const email = new FakeEmailChannel({ fail: "timeout" });
    const { chain } = setup([twilio!], { email });

    const outcome = await chain.deliver(WITH_EMAIL, new MemoryLedger());

    expect(outcome).toMatchObject({ status: "failed", retryable: false, errorClass: "opted_out" });
  });

  it("skips email without an address", async () => {
    const [twilio] = providers(["twilio", { fail: "timeout" }]);
    const email = new FakeEmailChannel();
    const { chain, observer } = setup([twilio!], { email });

    const outcome = await chain.deliver(REQUEST, new MemoryLedger());

    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(email.calls).toHaveLength(0);
    expect(observer.emailFallbacks).toEqual([]);
  });

  it("records acceptance once, before the accepted attempt", async () => {
    const [twilio] = providers(["twilio"]);
    const { chain } = setup([twilio!]);
    const calls: string[] = [];
    const ledger: DeliveryLedger = {
      appendAttempt: async (attempt) => {
        calls.push(`attempt:${attempt.provider}:${attempt.outcome}`);
      },
      recordAcceptance: async (provider, channel) => {
        calls.push(`acceptance:${provider}:${channel}`);
        return true;
      },
    };

    const outcome = await chain.deliver(REQUEST, ledger);

    expect(outcome).toEqual({ status: "accepted", channel: "sms", provider: "twilio", messageId: "twilio-msg-1" });
    expect(calls).toEqual(["acceptance:twilio:sms", "attempt:twilio:accepted"]);
  });

  it("reports attempts, failovers and fallback to the observer", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "auth", code: "20003" }], ["plivo", { fail: "invalid_recipient" }]);
    const email = new FakeEmailChannel();
    const { chain, observer } = setup([twilio!, plivo!], { email });

    await chain.deliver(WITH_EMAIL, new MemoryLedger());

    expect(observer.attempts).toEqual([
      ["twilio", "failed", "auth"],
      ["plivo", "failed", "invalid_recipient"],
      ["email", "accepted", undefined],
    ]);
    expect(observer.failovers).toEqual([["twilio", "plivo"]]);
    expect(observer.emailFallbacks).toEqual(["accepted"]);
  });

  it("keeps delivering when an observer hook throws", async () => {
    const [twilio] = providers(["twilio"]);
    const { logger, lines } = captureLogger();
    const breakers = new ProviderBreakers(new Map([["twilio", twilio!]]), SETTINGS, logger);
    opened.push(breakers);
    const observer = {
      attempt: () => {
        throw new Error("metrics registry closed");
      },
    };
    const chain = new DeliveryChain({ breakers, order: ["twilio"], logger, observer });

    const outcome = await chain.deliver(REQUEST, new MemoryLedger());

    expect(outcome).toMatchObject({ status: "accepted", provider: "twilio" });
    expect(lines().some((line) => line.msg === "delivery observer hook failed" && line.hook === "attempt")).toBe(true);
  });
});

describe("DeliveryChain logging", () => {
  it("logs one line per attempt without the number or body", async () => {
    const [twilio, plivo] = providers(["twilio", { fail: "provider_unavailable", code: "503" }], ["plivo"]);
    const email = new FakeEmailChannel({ fail: "timeout" });
    const { chain, lines, text } = setup([twilio!, plivo!], { email });
    await chain.deliver(WITH_EMAIL, new MemoryLedger());
    plivo!.answer({ fail: "invalid_recipient", code: "21211" });

    await chain.deliver(WITH_EMAIL, new MemoryLedger());

    const attempts = lines().filter((line) => line.msg === "delivery attempt");
    expect(attempts.map((line) => [line.provider, line.outcome, line.errorClass, line.errorCode])).toEqual([
      ["twilio", "failed", "provider_unavailable", "503"],
      ["plivo", "accepted", undefined, undefined],
      ["twilio", "failed", "provider_unavailable", "503"],
      ["plivo", "failed", "invalid_recipient", "21211"],
      ["email", "failed", "timeout", undefined],
    ]);
    for (const line of attempts) {
      expect(line.otpId).toBe(REQUEST.otpId);
      expect(typeof line.latencyMs).toBe("number");
    }
    expect(text()).not.toContain(NUMBER);
    expect(text()).not.toContain("482913");
    expect(text()).not.toContain("user@example.com");
  });
});

describe("DeliveryChain with OtpStore", () => {
  const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 1 });
  const prefix = `test-${randomUUID()}`;
  const otpId = `otp_${randomUUID()}`;

  afterAll(async () => {
    await new OtpStore(redis, prefix).delete(otpId);
    redis.disconnect();
  });

  it("writes attempts and the acceptance to the record", async () => {
    const store = new OtpStore(redis, prefix);
    const now = Date.now();
    await store.create({
      id: otpId,
      maskedTo: "+1500555****06",
      country: "US",
      codeHash: "hash",
      createdAt: now,
      expiresAt: now + 300_000,
      maxVerifyAttempts: 5,
    });
    const ledger: DeliveryLedger = {
      appendAttempt: (attempt) => store.appendAttempt(otpId, attempt),
      recordAcceptance: (provider, channel) => store.recordAcceptance(otpId, provider, channel),
    };
    const [twilio, plivo] = providers(["twilio", { fail: "provider_unavailable", code: "503" }], ["plivo"]);
    const { chain } = setup([twilio!, plivo!]);

    const outcome = await chain.deliver({ ...REQUEST, otpId }, ledger);
    const record = await store.get(otpId);

    expect(outcome).toMatchObject({ status: "accepted", provider: "plivo" });
    expect(record?.acceptedProvider).toBe("plivo");
    expect(record?.channel).toBe("sms");
    expect(record?.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorCode])).toEqual([
      ["twilio", "failed", "503"],
      ["plivo", "accepted", undefined],
    ]);
    expect(record?.attempts[1]?.messageId).toBe("plivo-msg-1");
  });
});
