// Pure policy tests: the providers are scripted in-test fakes (see test-fakes.ts), while the
// breakers are real opossum 9.0.0 instances with short timeouts.
import { DeliveryError, type SmsProviderName } from "@otpin/core";
import { afterEach, describe, expect, it } from "vitest";
import { BreakerOpenError } from "./breaker-open-error.js";
import type { BreakerSettings } from "./breaker-settings.js";
import { breakerSettingsFromConfig } from "./breaker-settings.js";
import { DeliveryChain, type DeliveryRequest } from "./delivery-chain.js";
import { ProviderBreakers } from "./provider-breakers.js";
import { captureLogger, FakeSmsProvider, MemoryLedger, RecordingObserver, waitFor } from "./test-fakes.js";

const SETTINGS: BreakerSettings = {
  timeoutMs: 1000,
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeoutMs: 40,
  rollingCountTimeoutMs: 10_000,
};

const REQUEST: DeliveryRequest = {
  otpId: "otp_breaker_test",
  to: "+15005550006",
  country: "US",
  smsBody: "Your otpin code is 482913. It expires in 5 minutes. Do not share it.",
};

const MESSAGE = { otpId: REQUEST.otpId, to: REQUEST.to, body: REQUEST.smsBody };

const opened: ProviderBreakers[] = [];

function setup(providerList: FakeSmsProvider[], settings: BreakerSettings = SETTINGS) {
  const observer = new RecordingObserver();
  const { logger, lines } = captureLogger();
  const providers = new Map<SmsProviderName, FakeSmsProvider>(providerList.map((provider) => [provider.name, provider]));
  const breakers = new ProviderBreakers(providers, settings, logger, observer);
  opened.push(breakers);
  const chain = new DeliveryChain({ breakers, order: providerList.map((provider) => provider.name), logger, observer });
  return { breakers, chain, observer, lines };
}

async function openBreaker(breakers: ProviderBreakers, provider: FakeSmsProvider): Promise<void> {
  provider.answer({ fail: "provider_unavailable", code: "503" });
  const sends = Array.from({ length: 6 }, () => breakers.send(provider.name, MESSAGE).catch((error: unknown) => error));
  await Promise.all(sends);
  expect(breakers.state(provider.name)).toBe("open");
}

afterEach(() => {
  for (const breakers of opened.splice(0)) breakers.shutdown();
});

describe("breakerSettingsFromConfig", () => {
  it("maps the BREAKER_* variables", () => {
    const settings = breakerSettingsFromConfig({
      BREAKER_TIMEOUT_MS: 10_000,
      BREAKER_ERROR_THRESHOLD_PERCENT: 50,
      BREAKER_VOLUME_THRESHOLD: 10,
      BREAKER_RESET_TIMEOUT_MS: 30_000,
      BREAKER_ROLLING_WINDOW_MS: 60_000,
    });

    expect(settings).toEqual({
      timeoutMs: 10_000,
      errorThresholdPercentage: 50,
      volumeThreshold: 10,
      resetTimeoutMs: 30_000,
      rollingCountTimeoutMs: 60_000,
    });
  });
});

describe("ProviderBreakers", () => {
  it("ignores recipient errors in breaker stats", async () => {
    const twilio = new FakeSmsProvider("twilio", [{ fail: "invalid_recipient", code: "21211" }]);
    const plivo = new FakeSmsProvider("plivo");
    const { breakers, chain } = setup([twilio, plivo]);

    for (let send = 0; send < 10; send++) {
      const outcome = await chain.deliver(REQUEST, new MemoryLedger());
      expect(outcome).toMatchObject({ status: "failed", errorClass: "invalid_recipient", retryable: false });
    }
    twilio.answer({ accept: true });
    const eleventh = await chain.deliver(REQUEST, new MemoryLedger());

    expect(eleventh).toMatchObject({ status: "accepted", provider: "twilio" });
    expect(breakers.state("twilio")).toBe("closed");
    expect(breakers.stats("twilio").failures).toBe(0);
    expect(breakers.stats("twilio").successes).toBe(11);
    expect(twilio.calls).toHaveLength(11);
    expect(plivo.calls).toHaveLength(0);
  });

  it("opens on concurrent failures and closes after one half-open success", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const plivo = new FakeSmsProvider("plivo");
    const { breakers, chain, observer } = setup([twilio, plivo]);

    twilio.answer({ fail: "provider_unavailable", code: "503" });
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => chain.deliver(REQUEST, new MemoryLedger())));
    expect(outcomes.every((outcome) => outcome.status === "accepted" && outcome.provider === "plivo")).toBe(true);
    expect(breakers.state("twilio")).toBe("open");

    const whileOpen = await chain.deliver(REQUEST, new MemoryLedger());
    expect(whileOpen).toMatchObject({ status: "accepted", provider: "plivo" });
    expect(twilio.calls).toHaveLength(6);

    await waitFor(() => breakers.state("twilio") === "half_open");
    twilio.answer({ accept: true });
    const trial = await chain.deliver(REQUEST, new MemoryLedger());
    const after = await chain.deliver(REQUEST, new MemoryLedger());

    expect(trial).toMatchObject({ status: "accepted", provider: "twilio" });
    expect(after).toMatchObject({ status: "accepted", provider: "twilio" });
    expect(breakers.state("twilio")).toBe("closed");
    expect(observer.transitions).toEqual([
      ["twilio", "open"],
      ["twilio", "half_open"],
      ["twilio", "closed"],
    ]);
  });

  it("lets exactly one half-open trial through", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const { breakers } = setup([twilio]);
    await openBreaker(breakers, twilio);
    await waitFor(() => breakers.state("twilio") === "half_open");

    twilio.answer({ hang: true });
    const callsBefore = twilio.calls.length;
    const trial = breakers.send("twilio", MESSAGE);
    const rejected = await Promise.allSettled([breakers.send("twilio", MESSAGE), breakers.send("twilio", MESSAGE)]);
    twilio.releaseHanging();

    await expect(trial).resolves.toMatchObject({ provider: "twilio" });
    expect(twilio.calls.length - callsBefore).toBe(1);
    for (const result of rejected) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(BreakerOpenError);
    }
    expect(breakers.state("twilio")).toBe("closed");
  });

  it("closes when the half-open trial hits an invalid number", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const { breakers, chain } = setup([twilio]);
    await openBreaker(breakers, twilio);
    await waitFor(() => breakers.state("twilio") === "half_open");

    twilio.answer({ fail: "invalid_recipient", code: "21211" }, { accept: true });
    const callsBefore = twilio.calls.length;
    const trial = await chain.deliver(REQUEST, new MemoryLedger());
    const next = await chain.deliver(REQUEST, new MemoryLedger());

    expect(trial).toMatchObject({ status: "failed", errorClass: "invalid_recipient", retryable: false });
    expect(next).toMatchObject({ status: "accepted", provider: "twilio" });
    expect(twilio.calls.length - callsBefore).toBe(2);
    expect(breakers.state("twilio")).toBe("closed");
  });

  it("reopens when the half-open trial fails", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const { breakers, observer } = setup([twilio]);
    await openBreaker(breakers, twilio);
    await waitFor(() => breakers.state("twilio") === "half_open");

    await expect(breakers.send("twilio", MESSAGE)).rejects.toMatchObject({ errorClass: "provider_unavailable" });

    expect(breakers.state("twilio")).toBe("open");
    expect(observer.transitions.map(([, state]) => state)).toEqual(["open", "half_open", "open"]);
  });

  it("forgets the outage's failures once closed", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const { breakers } = setup([twilio]);
    await openBreaker(breakers, twilio);
    await waitFor(() => breakers.state("twilio") === "half_open");
    twilio.answer({ accept: true });
    await breakers.send("twilio", MESSAGE);

    twilio.answer({ fail: "provider_unavailable", code: "503" });
    await expect(breakers.send("twilio", MESSAGE)).rejects.toBeInstanceOf(DeliveryError);

    expect(breakers.state("twilio")).toBe("closed");
    expect(breakers.stats("twilio").failures).toBe(1);
  });

  it("stays closed below the volume threshold", async () => {
    const twilio = new FakeSmsProvider("twilio", [{ hang: true }, { accept: true }]);
    const { breakers } = setup([twilio], { ...SETTINGS, timeoutMs: 30, volumeThreshold: 10 });

    const timedOut = await breakers.send("twilio", MESSAGE).catch((error: unknown) => error);
    for (let send = 0; send < 5; send++) await breakers.send("twilio", MESSAGE);
    twilio.releaseHanging();

    expect(timedOut).toBeInstanceOf(DeliveryError);
    expect(timedOut).toMatchObject({ errorClass: "timeout", providerCode: "ETIMEDOUT", provider: "twilio" });
    expect(breakers.stats("twilio").failures).toBe(1);
    expect(breakers.state("twilio")).toBe("closed");
  });

  it("opens on the tenth call at the volume threshold", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const { breakers } = setup([twilio], { ...SETTINGS, volumeThreshold: 10 });

    for (let send = 0; send < 4; send++) await breakers.send("twilio", MESSAGE);
    twilio.answer({ fail: "provider_unavailable", code: "503" });
    const states: string[] = [];
    for (let send = 0; send < 6; send++) {
      await breakers.send("twilio", MESSAGE).catch(() => undefined);
      states.push(breakers.state("twilio"));
    }

    expect(states).toEqual(["closed", "closed", "closed", "closed", "closed", "open"]);
    expect(twilio.calls).toHaveLength(10);
  });

  it("rejects with BreakerOpenError without calling the provider", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const { breakers } = setup([twilio]);
    await openBreaker(breakers, twilio);
    const callsBefore = twilio.calls.length;

    const error = await breakers.send("twilio", MESSAGE).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ errorClass: "provider_unavailable", providerCode: "EOPENBREAKER", provider: "twilio" });
    expect(twilio.calls).toHaveLength(callsBefore);
  });

  it("wraps an untyped provider error as unknown and counts it", async () => {
    const twilio = new FakeSmsProvider("twilio", [{ throw: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) }]);
    const { breakers } = setup([twilio]);

    const error = await breakers.send("twilio", MESSAGE).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ errorClass: "unknown", providerCode: "ECONNRESET", provider: "twilio" });
    expect(breakers.stats("twilio").failures).toBe(1);
  });

  it("does not count not_permitted against the breaker", async () => {
    const twilio = new FakeSmsProvider("twilio", [{ fail: "not_permitted", code: "21408" }]);
    const { breakers } = setup([twilio]);

    for (let send = 0; send < 8; send++) await breakers.send("twilio", MESSAGE).catch(() => undefined);

    expect(breakers.stats("twilio").failures).toBe(0);
    expect(breakers.state("twilio")).toBe("closed");
  });

  it("logs each state change once with provider and settings", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const { breakers, lines } = setup([twilio]);
    await openBreaker(breakers, twilio);
    await waitFor(() => breakers.state("twilio") === "half_open");
    twilio.answer({ accept: true });
    await breakers.send("twilio", MESSAGE);

    const changes = lines().filter((line) => line.msg === "provider breaker state changed");
    expect(changes.map((line) => [line.state, line.level])).toEqual([
      ["open", 40],
      ["half_open", 40],
      ["closed", 30],
    ]);
    expect(changes[0]).toMatchObject({ provider: "twilio", breaker: SETTINGS });
  });

  it("rejects sends after shutdown with a typed error", async () => {
    const twilio = new FakeSmsProvider("twilio");
    const { breakers } = setup([twilio]);
    breakers.shutdown();

    const error = await breakers.send("twilio", MESSAGE).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(error).toMatchObject({ providerCode: "ESHUTDOWN" });
    expect(twilio.calls).toHaveLength(0);
  });
});
