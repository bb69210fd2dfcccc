import { createLogger, DELIVERY_ERROR_CLASSES } from "@otpin/core";
import { Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import type { BreakerState } from "../delivery/index.js";
import { fanOutObservers } from "./observer-fanout.js";
import { WorkerMetrics } from "./worker-metrics.js";

const PHONE_LIKE = /\+?\d{8,15}/;
const PROVIDERS = ["twilio", "plivo", "vonage"];

/** Deterministic pseudo-random numbers (mulberry32), so a failure replays the same calls. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T;
}

function seriesLines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function fakeBreakers(states: Record<string, BreakerState>) {
  return { names: () => Object.keys(states), state: (provider: string) => states[provider] ?? "closed" };
}

/** Plays the hooks one send would trigger, with a random outcome and a random recipient in the body. */
function playSend(metrics: WorkerMetrics, next: () => number, index: number): void {
  const recipient = `+1415${String(Math.floor(next() * 1e7)).padStart(7, "0")}`;
  const body = next() < 0.2 ? `Ваш код ${index % 1_000_000} для ${recipient}` : `Your Acme code is ${index} (${recipient})`;
  const first = pick(next, PROVIDERS);
  const failed = next() < 0.3;
  if (failed) {
    metrics.attempt(first, "failed", pick(next, DELIVERY_ERROR_CLASSES), next() * 5);
    const second = pick(
      next,
      PROVIDERS.filter((provider) => provider !== first),
    );
    metrics.failover(first, second);
    if (next() < 0.5) {
      metrics.emailFallback(pick(next, ["accepted", "failed"] as const));
      metrics.jobCompleted(pick(next, ["sent", "failed", "expired"] as const));
      return;
    }
    metrics.attempt(second, "accepted", undefined, next());
    metrics.smsAccepted(second, body);
  } else {
    metrics.attempt(first, "accepted", undefined, next());
    metrics.smsAccepted(first, body);
  }
  if (next() < 0.05) metrics.providerRetry(first, "throttled");
  if (next() < 0.02) metrics.breakerTransition(first, pick(next, ["open", "half_open", "closed"] as const));
  if (next() < 0.01) metrics.duplicateSuppressed();
  metrics.delivered(pick(next, ["sms", "email"]), next() * 60);
  metrics.jobCompleted("sent");
}

describe("worker metrics", () => {
  test("10,000 random sends keep series bounded", async () => {
    const metrics = new WorkerMetrics(new Registry());
    metrics.trackBreakers(fakeBreakers({ twilio: "closed", plivo: "closed", vonage: "closed" }));
    const next = random(42);

    for (let index = 0; index < 5_000; index += 1) playSend(metrics, next, index);
    const afterHalf = seriesLines(await metrics.registry.metrics()).filter((line) => line.startsWith("otp_"));
    for (let index = 5_000; index < 10_000; index += 1) playSend(metrics, next, index);
    const text = await metrics.registry.metrics();
    const series = seriesLines(text).filter((line) => line.startsWith("otp_"));

    expect(series.length).toBe(afterHalf.length);
    // 3 providers x 8 error classes + 3 accepted attempts bounds the attempt series.
    expect(series.filter((line) => line.startsWith("otp_delivery_attempts_total{")).length).toBeLessThanOrEqual(27);
    const labelValues = [...text.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((match) => match[1] ?? "");
    expect(labelValues.filter((value) => PHONE_LIKE.test(value))).toEqual([]);
    expect(text).not.toContain("Your Acme code");
  });

  test("reports each hook under its metric", async () => {
    const metrics = new WorkerMetrics(new Registry());
    metrics.attempt("twilio", "failed", "provider_unavailable", 0.2);
    metrics.failover("twilio", "plivo");
    metrics.attempt("plivo", "accepted", undefined, 0.05);
    metrics.smsAccepted("plivo", "x".repeat(161));
    metrics.smsAccepted("plivo", "Код 123456");
    metrics.emailFallback("accepted");
    metrics.breakerTransition("twilio", "open");
    metrics.jobCompleted("sent");
    metrics.duplicateSuppressed();
    metrics.delivered("sms", 1.5);
    metrics.providerRetry("vonage", "throttled");

    const text = await metrics.registry.metrics();
    expect(
      sample(text, 'otp_delivery_attempts_total{provider="twilio",outcome="failed",error_class="provider_unavailable"}'),
    ).toBe(1);
    expect(sample(text, 'otp_delivery_attempts_total{provider="plivo",outcome="accepted",error_class="none"}')).toBe(1);
    expect(sample(text, 'otp_provider_request_duration_seconds_count{provider="plivo",outcome="accepted"}')).toBe(1);
    expect(sample(text, 'otp_failovers_total{from="twilio",to="plivo"}')).toBe(1);
    expect(sample(text, 'otp_sms_segments_total{provider="plivo",encoding="gsm7"}')).toBe(2);
    expect(sample(text, 'otp_sms_segments_total{provider="plivo",encoding="ucs2"}')).toBe(1);
    expect(sample(text, 'otp_email_fallbacks_total{outcome="accepted"}')).toBe(1);
    expect(sample(text, 'otp_email_fallbacks_total{outcome="failed"}')).toBe(0);
    expect(sample(text, 'otp_circuit_state{provider="twilio"}')).toBe(2);
    expect(sample(text, 'otp_circuit_transitions_total{provider="twilio",to="open"}')).toBe(1);
    expect(sample(text, 'otp_jobs_completed_total{status="sent"}')).toBe(1);
    expect(sample(text, 'otp_jobs_completed_total{status="expired"}')).toBe(0);
    expect(sample(text, "otp_duplicates_suppressed_total")).toBe(1);
    expect(sample(text, 'otp_delivery_seconds_bucket{le="2",channel="sms"}')).toBe(1);
    expect(sample(text, 'otp_delivery_seconds_bucket{le="1",channel="sms"}')).toBe(0);
    expect(sample(text, 'otp_provider_retries_total{provider="vonage",error_class="throttled"}')).toBe(1);
  });

  test("reads breaker states at scrape time", async () => {
    const states: Record<string, BreakerState> = { twilio: "closed", plivo: "closed" };
    const metrics = new WorkerMetrics(new Registry());
    metrics.trackBreakers(fakeBreakers(states));

    states.twilio = "half_open";
    states.plivo = "open";
    const text = await metrics.registry.metrics();

    expect(sample(text, 'otp_circuit_state{provider="twilio"}')).toBe(1);
    expect(sample(text, 'otp_circuit_state{provider="plivo"}')).toBe(2);
    expect(sample(text, 'otp_failovers_total{from="twilio",to="plivo"}')).toBe(0);
  });

  test("reports unknown provider names as other", async () => {
    const metrics = new WorkerMetrics(new Registry());
    metrics.attempt("+14155550123", "failed", "unknown", 0.1);
    const text = await metrics.registry.metrics();
    expect(sample(text, 'otp_delivery_attempts_total{provider="other",outcome="failed",error_class="unknown"}')).toBe(1);
  });

  test("two workers in one process keep separate registries", async () => {
    const first = new WorkerMetrics(new Registry());
    const second = new WorkerMetrics(new Registry());
    first.jobCompleted("failed");

    const firstText = await first.registry.metrics();
    const secondText = await second.registry.metrics();
    expect(sample(firstText, 'otp_jobs_completed_total{status="failed"}')).toBe(1);
    expect(sample(secondText, 'otp_jobs_completed_total{status="failed"}')).toBe(0);
    for (const text of [firstText, secondText]) {
      const help = text.split("\n").filter((line) => line.startsWith("# HELP "));
      expect(new Set(help).size).toBe(help.length);
      expect(text).toContain("# HELP nodejs_eventloop_lag_p99_seconds");
    }
  });

  test("a throwing observer does not stop the metrics or the caller", async () => {
    const metrics = new WorkerMetrics(new Registry());
    const observer = fanOutObservers(createLogger("test", "silent"), metrics, {
      jobCompleted() {
        throw new Error("observer broke");
      },
    });

    expect(() => observer.jobCompleted?.("sent")).not.toThrow();
    expect(sample(await metrics.registry.metrics(), 'otp_jobs_completed_total{status="sent"}')).toBe(1);
  });
});
