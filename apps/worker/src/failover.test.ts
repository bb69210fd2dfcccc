import { afterEach, describe, expect, it } from "vitest";
import { type SmtpSink, startSilentSmtp, startSmtpSink } from "./test-support/smtp-sink.js";
import { codeFrom, TestStack } from "./test-support/stack.js";

// Scenarios across the whole path: API → BullMQ → worker → real SDKs → simulator (and a real SMTP
// server), with breaker thresholds small enough to trip in a few requests.
const FAST_BREAKER = {
  BREAKER_VOLUME_THRESHOLD: "3",
  BREAKER_ERROR_THRESHOLD_PERCENT: "50",
  BREAKER_RESET_TIMEOUT_MS: "500",
};

const UNAVAILABLE = { failure: { status: 503, code: 20500, message: "Service Unavailable" } };

let stack: TestStack | undefined;
let smtp: SmtpSink | undefined;

afterEach(async () => {
  await stack?.close();
  await smtp?.close();
  stack = undefined;
  smtp = undefined;
});

async function sendAndWait(target: TestStack, body: Record<string, unknown>, statuses = ["sent"]) {
  const sent = await target.send(body);
  expect(sent.status).toBe(202);
  return target.waitForStatus(String(sent.body.id), statuses);
}

describe("provider failover", () => {
  it("delivers through plivo while twilio answers 503 and opens twilio's breaker", async () => {
    stack = await new TestStack({
      workerEnv: { SMS_PROVIDERS: "twilio,plivo", ...FAST_BREAKER, BREAKER_RESET_TIMEOUT_MS: "60000" },
    }).start();
    stack.simulator.setBehaviour("twilio", UNAVAILABLE);

    for (let index = 0; index < 5; index += 1) {
      const view = await sendAndWait(stack, { to: `+1500555010${index}` });
      expect(view.attempts.at(-1)?.provider).toBe("plivo");
    }

    expect(stack.simulator.messages({ provider: "plivo" })).toHaveLength(5);
    expect(stack.simulator.messages({ provider: "twilio" })).toHaveLength(0);
    expect(stack.worker.breakers.state("twilio")).toBe("open");
    // Once open, the breaker stops calls to twilio: fewer than five requests reached it.
    expect(stack.simulator.requestCount("twilio")).toBeLessThan(5);
  });

  it("reaches vonage when twilio and plivo are down", async () => {
    stack = await new TestStack({ workerEnv: { SMS_PROVIDERS: "twilio,plivo,vonage" } }).start();
    stack.simulator.setBehaviour("twilio", UNAVAILABLE);
    stack.simulator.setBehaviour("plivo", { failure: { status: 503, message: "Service Unavailable" } });

    const view = await sendAndWait(stack, { to: "+15005550006" });

    expect(view.attempts.map((attempt) => [attempt.provider, attempt.outcome])).toEqual([
      ["twilio", "failed"],
      ["plivo", "failed"],
      ["vonage", "accepted"],
    ]);
    expect(stack.simulator.messages({ provider: "vonage", to: "+15005550006" })).toHaveLength(1);
  });

  it("emails the code when all three providers are down", async () => {
    smtp = await startSmtpSink();
    stack = await new TestStack({
      workerEnv: { SMS_PROVIDERS: "twilio,plivo,vonage", SMTP_URL: smtp.url, EMAIL_FROM: "otp@example.test" },
    }).start();
    stack.simulator.setBehaviour("twilio", UNAVAILABLE);
    stack.simulator.setBehaviour("plivo", { failure: { status: 500, message: "Internal Server Error" } });
    stack.simulator.setBehaviour("vonage", { failure: { status: 200, code: "5", message: "Internal Error" } });

    const sent = await stack.send({ to: "+15005550006", email: "user@example.test" });
    const view = await stack.waitForStatus(String(sent.body.id), ["sent"]);

    expect(view.channel).toBe("email");
    expect(view.attempts.map((attempt) => attempt.provider)).toEqual(["twilio", "plivo", "vonage", "email"]);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]?.to).toEqual(["user@example.test"]);
    const code = codeFrom(smtp.received[0]?.raw.split("\r\n\r\n").slice(1).join("\n") ?? "");
    // Every SMS attempt carried this same code: the simulator logged each request's body.
    const smsBodies = stack.simulator.requests().map((request) => request.body);
    expect(smsBodies).toHaveLength(3);
    for (const body of smsBodies) expect(codeFrom(body)).toBe(code);
    expect((await stack.verify(String(sent.body.id), code)).body.valid).toBe(true);
  });

  it("retries and then fails before expiry when no route works and no email is known", async () => {
    stack = await new TestStack({
      apiEnv: { JOB_ATTEMPTS: "3", JOB_BACKOFF_MS: "100" },
      workerEnv: { SMS_PROVIDERS: "twilio,plivo" },
    }).start();
    stack.simulator.setBehaviour("twilio", UNAVAILABLE);
    stack.simulator.setBehaviour("plivo", { failure: { status: 502, message: "Bad Gateway" } });

    const sent = await stack.send({ to: "+15005550006" });
    const view = await stack.waitForStatus(String(sent.body.id), ["failed"]);

    expect(view.reason).toMatch(/provider_unavailable/);
    expect(Date.parse(String(view.expiresAt))).toBeGreaterThan(Date.now());
    // Three job attempts, each through both providers until a breaker opened.
    expect(view.attempts.length).toBeGreaterThanOrEqual(3);
    const job = await stack.queue.getJob(String(sent.body.id));
    expect(job?.attemptsMade).toBe(3);
    expect(await job?.getState()).toBe("failed");
  });

  it("returns traffic to twilio after the reset timeout", async () => {
    stack = await new TestStack({ workerEnv: { SMS_PROVIDERS: "twilio,plivo", ...FAST_BREAKER } }).start();
    stack.simulator.setBehaviour("twilio", UNAVAILABLE);
    for (let index = 0; index < 3; index += 1) await sendAndWait(stack, { to: "+15005550006" });
    expect(stack.worker.breakers.state("twilio")).toBe("open");

    stack.simulator.setBehaviour("twilio", {});
    await new Promise((resolve) => setTimeout(resolve, 600));
    const view = await sendAndWait(stack, { to: "+15005550006" });

    expect(view.attempts.map((attempt) => [attempt.provider, attempt.outcome])).toEqual([["twilio", "accepted"]]);
    expect(stack.worker.breakers.state("twilio")).toBe("closed");
  });
});

describe("vonage per-message status", () => {
  it("fails over on status 29 inside an http 200 and counts it against the breaker", async () => {
    stack = await new TestStack({ workerEnv: { SMS_PROVIDERS: "vonage,twilio" } }).start();
    stack.simulator.setBehaviour("vonage", { failure: { status: 200, code: "29", message: "Non White-listed Destination" } });

    const view = await sendAndWait(stack, { to: "+15005550006" });

    expect(
      view.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass ?? null, attempt.errorCode ?? null]),
    ).toEqual([
      ["vonage", "failed", "not_permitted", "29"],
      ["twilio", "accepted", null, null],
    ]);
    expect(stack.worker.breakers.stats("vonage").failures).toBe(1);
  });

  it("retries status 1 as throttling on the same provider", async () => {
    stack = await new TestStack({ workerEnv: { SMS_PROVIDERS: "vonage,twilio" } }).start();
    stack.simulator.setBehaviour("vonage", { throttleNext: 1 });

    const view = await sendAndWait(stack, { to: "+15005550006" });

    expect(view.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass ?? null])).toEqual([
      ["vonage", "failed", "throttled"],
      ["vonage", "accepted", null],
    ]);
    expect(stack.simulator.messages({ provider: "vonage" })).toHaveLength(1);
    expect(stack.simulator.requestCount("twilio")).toBe(0);
  });
});

describe("recipient errors", () => {
  it("stops at an invalid number without trying another provider", async () => {
    stack = await new TestStack({ workerEnv: { SMS_PROVIDERS: "twilio,plivo" } }).start();

    const view = await sendAndWait(stack, { to: "+15005550001" }, ["failed"]);

    expect(view.reason).toMatch(/invalid_recipient/);
    expect(view.reason).toMatch(/21211/);
    expect(stack.simulator.requestCount("plivo")).toBe(0);
    const job = await stack.queue.getJob(String(view.id));
    expect(job?.attemptsMade).toBe(1);
  });

  it("emails an opted-out recipient instead of texting through another provider", async () => {
    smtp = await startSmtpSink();
    stack = await new TestStack({
      workerEnv: { SMS_PROVIDERS: "twilio,plivo", SMTP_URL: smtp.url, EMAIL_FROM: "otp@example.test" },
    }).start();

    const view = await sendAndWait(stack, { to: "+15005550004", email: "user@example.test" });

    expect(view.channel).toBe("email");
    expect(view.attempts.map((attempt) => [attempt.provider, attempt.errorCode ?? null])).toEqual([
      ["twilio", "21610"],
      ["email", null],
    ]);
    expect(stack.simulator.requestCount("plivo")).toBe(0);
    expect(smtp.received).toHaveLength(1);
  });

  it("fails over on a geo-permission error without counting it against the breaker", async () => {
    stack = await new TestStack({ workerEnv: { SMS_PROVIDERS: "twilio,plivo", ...FAST_BREAKER } }).start();
    stack.simulator.setBehaviour("plivo", {});

    for (let index = 0; index < 4; index += 1) {
      const view = await sendAndWait(stack, { to: "+15005550003" }, ["sent", "failed"]);
      expect(view.attempts[0]?.errorCode).toBe("21408");
    }
    expect(stack.worker.breakers.state("twilio")).toBe("closed");
  });
});

describe("email fallback timeouts", () => {
  it("gives up on an smtp server that never greets within seconds", async () => {
    const silent = await startSilentSmtp();
    try {
      stack = await new TestStack({
        apiEnv: { JOB_ATTEMPTS: "1" },
        workerEnv: { SMS_PROVIDERS: "twilio", SMTP_URL: silent.url, EMAIL_FROM: "otp@example.test", SMTP_TIMEOUT_MS: "700" },
      }).start();
      stack.simulator.setBehaviour("twilio", UNAVAILABLE);

      const started = Date.now();
      const view = await sendAndWait(stack, { to: "+15005550006", email: "user@example.test" }, ["failed"]);

      expect(Date.now() - started).toBeLessThan(8000);
      expect(view.reason).toMatch(/SMTP/i);
      const email = view.attempts.find((attempt) => attempt.provider === "email");
      expect(email?.outcome).toBe("failed");
      expect(email?.errorClass).toBe("timeout");
    } finally {
      await silent.close();
    }
  });
});
