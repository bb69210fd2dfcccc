// The chain against the real provider adapters (official SDKs) and the real SMTP channel,
// pointed at the provider simulator and an smtp-server on 127.0.0.1.
import { loadWorkerConfig, renderEmail, renderSms, type WorkerConfig } from "@otpin/core";
import { createEmailChannel, createSmsProviders, type EmailChannel } from "@otpin/providers";
import { SIMULATOR_CREDENTIALS, type Simulator, startSimulator } from "@otpin/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type SmtpSink, startSmtpSink } from "../test-support/smtp-sink.js";
import { createDeliveryChain, type DeliveryChain, type DeliveryRequest } from "./delivery-chain.js";
import type { ProviderBreakers } from "./provider-breakers.js";
import { captureLogger, MemoryLedger, RecordingObserver } from "./test-fakes.js";

const CODE = "482913";
const RECIPIENT = "+14155550123";
const INVALID_NUMBER = "+15005550001";
const EMAIL_ADDRESS = "user@example.com";

let simulator: Simulator;
let smtp: SmtpSink;

let email: EmailChannel | undefined;
let breakers: ProviderBreakers;
let chain: DeliveryChain;
let observer: RecordingObserver;

function workerConfig(): WorkerConfig {
  return loadWorkerConfig({
    DEMO_MODE: "true",
    SMS_PROVIDERS: "twilio,plivo,vonage",
    PROVIDER_TIMEOUT_MS: "300",
    BREAKER_TIMEOUT_MS: "1000",
    TWILIO_ACCOUNT_SID: SIMULATOR_CREDENTIALS.twilio.accountSid,
    TWILIO_AUTH_TOKEN: SIMULATOR_CREDENTIALS.twilio.authToken,
    TWILIO_FROM: "+15005550006",
    TWILIO_API_URL: simulator.url,
    PLIVO_AUTH_ID: SIMULATOR_CREDENTIALS.plivo.authId,
    PLIVO_AUTH_TOKEN: SIMULATOR_CREDENTIALS.plivo.authToken,
    PLIVO_FROM: "+14155550100",
    PLIVO_API_URL: `${simulator.url}/v1/Account/${SIMULATOR_CREDENTIALS.plivo.authId}`,
    VONAGE_API_KEY: SIMULATOR_CREDENTIALS.vonage.apiKey,
    VONAGE_API_SECRET: SIMULATOR_CREDENTIALS.vonage.apiSecret,
    VONAGE_FROM: "otpin",
    VONAGE_API_URL: simulator.url,
    SMTP_URL: smtp.url,
    EMAIL_FROM: "otp@example.com",
    SMTP_TIMEOUT_MS: "2000",
  });
}

function request(to: string, withEmail = false): DeliveryRequest {
  const input = { code: CODE, appName: "otpin", ttlSeconds: 300 };
  const base = { otpId: `otp_${Math.random().toString(36).slice(2)}`, to, country: "US", smsBody: renderSms(input) };
  return withEmail ? { ...base, email: EMAIL_ADDRESS, emailContent: renderEmail(input) } : base;
}

beforeAll(async () => {
  simulator = await startSimulator();
  smtp = await startSmtpSink();
});

afterAll(async () => {
  await simulator.close();
  await smtp.close();
});

beforeEach(() => {
  simulator.reset();
  const config = workerConfig();
  email = createEmailChannel(config);
  observer = new RecordingObserver();
  ({ chain, breakers } = createDeliveryChain(config, {
    providers: createSmsProviders(config),
    email,
    logger: captureLogger().logger,
    observer,
  }));
});

afterEach(async () => {
  breakers.shutdown();
  await email?.close();
});

describe("DeliveryChain with real adapters", () => {
  it("fails over to plivo when twilio returns 503", async () => {
    simulator.setBehaviour("twilio", { failure: { status: 503, code: 20500, message: "Service Unavailable" } });
    const ledger = new MemoryLedger();
    const sms = request(RECIPIENT);

    const outcome = await chain.deliver(sms, ledger);

    expect(outcome).toMatchObject({ status: "accepted", channel: "sms", provider: "plivo" });
    expect(ledger.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass])).toEqual([
      ["twilio", "failed", "provider_unavailable"],
      ["plivo", "accepted", undefined],
    ]);
    const [message] = simulator.messages({ to: RECIPIENT });
    expect(message?.provider).toBe("plivo");
    expect(message?.body).toBe(sms.smsBody);
    expect(observer.failovers).toEqual([["twilio", "plivo"]]);
  });

  it("fails over to plivo when twilio hangs", async () => {
    simulator.setBehaviour("twilio", { mode: "hang" });
    const ledger = new MemoryLedger();

    const outcome = await chain.deliver(request(RECIPIENT), ledger);

    expect(outcome).toMatchObject({ status: "accepted", provider: "plivo" });
    expect(ledger.attempts[0]).toMatchObject({ provider: "twilio", outcome: "failed", errorClass: "timeout" });
    expect(ledger.attempts[0]?.latencyMs).toBeLessThan(1000);
  });

  it("stops at an invalid number and sends email", async () => {
    const ledger = new MemoryLedger();

    const outcome = await chain.deliver(request(INVALID_NUMBER, true), ledger);

    expect(outcome).toMatchObject({ status: "accepted", channel: "email", provider: "email" });
    expect(ledger.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass, attempt.errorCode])).toEqual([
      ["twilio", "failed", "invalid_recipient", "21211"],
      ["email", "accepted", undefined, undefined],
    ]);
    expect(simulator.requestCount("plivo")).toBe(0);
    expect(simulator.requestCount("vonage")).toBe(0);
    expect(smtp.received.at(-1)?.to).toEqual([EMAIL_ADDRESS]);
    expect(smtp.received.at(-1)?.raw).toContain(CODE);
  });

  it("fails not retryable on an invalid number without email", async () => {
    const outcome = await chain.deliver(request(INVALID_NUMBER), new MemoryLedger());

    expect(outcome).toEqual({
      status: "failed",
      retryable: false,
      errorClass: "invalid_recipient",
      reason: "invalid_recipient: twilio rejected the number (21211)",
    });
  });

  it("retries twilio through two throttled responses", async () => {
    simulator.setBehaviour("twilio", { throttleNext: 2 });
    const ledger = new MemoryLedger();

    const outcome = await chain.deliver(request(RECIPIENT), ledger);

    expect(outcome).toMatchObject({ status: "accepted", provider: "twilio" });
    expect(ledger.attempts.map((attempt) => attempt.errorClass ?? attempt.outcome)).toEqual([
      "throttled",
      "throttled",
      "accepted",
    ]);
    expect(observer.retries).toEqual([
      ["twilio", "throttled"],
      ["twilio", "throttled"],
    ]);
    expect(simulator.messages({ to: RECIPIENT })).toHaveLength(1);
  });

  it("fails retryable when every provider is down", async () => {
    for (const provider of ["twilio", "plivo", "vonage"] as const) {
      simulator.setBehaviour(provider, { failure: { status: 503, message: "Service Unavailable" } });
    }

    const outcome = await chain.deliver(request(RECIPIENT), new MemoryLedger());

    expect(outcome).toMatchObject({ status: "failed", retryable: true, errorClass: "provider_unavailable" });
    expect(simulator.requestCount()).toBe(3);
  });
});
