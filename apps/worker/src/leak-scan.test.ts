import { Writable } from "node:stream";
import { createLogger } from "@otpin/core";
import { dumpKeys } from "@otpin/core/testing";
import { SIMULATOR_CREDENTIALS } from "@otpin/simulator";
import { afterAll, describe, expect, it } from "vitest";
import { type SmtpSink, startSmtpSink } from "./test-support/smtp-sink.js";
import { STACK_API_KEY, TEST_SECRET, TestStack } from "./test-support/stack.js";

// One full flow with every default defence on: send with failover, email fallback, verify wrong
// and right, a failed delivery, and error responses. Then every log line of the API and the
// worker, every error body, every failed job's reason and every Redis key and value under the
// deployment's prefix are searched for codes, numbers, keys and secrets.
const FAILOVER_TO = "+15005550006";
const EMAIL_TO = "+15005550007";
const INVALID_TO = "+15005550001"; // the simulator's "invalid number": its Twilio error text quotes the number

const UNAVAILABLE = { failure: { status: 503, code: 20500, message: "Service Unavailable" } };

let stack: TestStack | undefined;
let smtp: SmtpSink | undefined;

afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

/** A pino destination that keeps every line. */
function captureLines(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  return { stream, lines };
}

/** Matches a value with digit boundaries, so a timestamp that happens to contain the digits does not count. */
function digits(value: string): RegExp {
  return new RegExp(`(?<!\\d)${value.replace(/[+]/g, "\\+")}(?!\\d)`);
}

describe("nothing sensitive leaks during a full flow", () => {
  it("keeps codes, numbers, keys and secrets out of logs, errors, job reasons and Redis", async () => {
    smtp = await startSmtpSink();
    const capture = captureLines();
    stack = await new TestStack({
      logger: createLogger("leak-scan", "trace", capture.stream),
      withLimits: true,
      workerEnv: { SMS_PROVIDERS: "twilio,plivo,vonage", SMTP_URL: smtp.url, EMAIL_FROM: "otp@example.test" },
    }).start();
    const target = stack;
    const errorBodies: string[] = [];
    const codes: string[] = [];

    // Send: twilio answers 503, plivo carries the code.
    target.simulator.setBehaviour("twilio", UNAVAILABLE);
    const sent = await target.send({ to: FAILOVER_TO });
    expect(sent.status).toBe(202);
    const id = String(sent.body.id);
    const viaPlivo = await target.waitForStatus(id, ["sent"]);
    expect(viaPlivo.attempts.map((attempt) => attempt.provider)).toEqual(["twilio", "plivo"]);
    const sms = target.simulator.messages({ provider: "plivo", to: FAILOVER_TO })[0];
    const code = /code is (\d+)/.exec(sms?.body ?? "")?.[1] ?? "";
    codes.push(code);

    // Verify: a wrong code, then the right one.
    const wrong = await target.verify(id, code === "000000" ? "111111" : "000000");
    expect(wrong.body).toMatchObject({ valid: false });
    expect((await target.verify(id, code)).body).toEqual({ id, valid: true });

    // Email fallback: every SMS provider fails.
    target.simulator.setBehaviour("plivo", { failure: { status: 500, message: "Internal Server Error" } });
    target.simulator.setBehaviour("vonage", { failure: { status: 200, code: "5", message: "Internal Error" } });
    const mailed = await target.send({ to: EMAIL_TO, email: "user@example.test" });
    expect((await target.waitForStatus(String(mailed.body.id), ["sent"])).channel).toBe("email");
    const emailCode = /code is (\d+)/.exec(smtp.received[0]?.raw ?? "")?.[1] ?? "";
    codes.push(emailCode);
    expect((await target.verify(String(mailed.body.id), emailCode)).body).toMatchObject({ valid: true });

    // A failed delivery: the number is invalid at every provider.
    target.simulator.reset();
    const invalid = await target.send({ to: INVALID_TO });
    expect((await target.waitForStatus(String(invalid.body.id), ["failed"])).reason).toMatch(/invalid_recipient/);

    // Errors: bad input, no key, a wrong key, a resend inside the cooldown, an unassigned number.
    const inject = (headers: Record<string, string>, payload: unknown) =>
      target.api.inject({
        method: "POST",
        url: "/v1/otp",
        headers: { "content-type": "application/json", ...headers },
        payload: JSON.stringify(payload),
      });
    const errors = [
      await inject({}, { to: 15005550006 }),
      await inject({}, { to: FAILOVER_TO, phone: FAILOVER_TO }),
      await inject({ authorization: "" }, { to: FAILOVER_TO }),
      await inject({ authorization: `Bearer ${STACK_API_KEY}x` }, { to: FAILOVER_TO }),
      await inject({}, { to: FAILOVER_TO }),
      await inject({}, { to: "+447700900123" }),
      await inject({}, { to: "+44 7700 900123" }),
    ];
    expect(errors.map((response) => response.statusCode)).toEqual([400, 400, 401, 401, 429, 400, 400]);
    errorBodies.push(...errors.map((response) => response.body));
    const reused = await target.verify(id, code);
    expect(reused.status).toBe(409);
    errorBodies.push(JSON.stringify(reused.body));

    const failedReasons = (await target.queue.getFailed()).map((job) => job.failedReason);
    expect(failedReasons.length).toBeGreaterThan(0);
    const dump = await dumpKeys(target.redis, `${target.prefix}:*`);
    expect(dump.size).toBeGreaterThan(0);
    expect(capture.lines.length).toBeGreaterThan(20);
    // Both sides logged: the API's request lines and the worker's delivery lines.
    expect(capture.lines.some((line) => line.includes('"msg":"request completed"'))).toBe(true);
    expect(capture.lines.some((line) => line.includes('"provider":"plivo"'))).toBe(true);

    const needles: [string, RegExp][] = [
      ...codes.map((value): [string, RegExp] => [`code ${value}`, digits(value)]),
      ...[FAILOVER_TO, EMAIL_TO, INVALID_TO, "+447700900123"].flatMap((number): [string, RegExp][] => [
        [`number ${number}`, digits(number)],
        [`number ${number.slice(1)}`, digits(number.slice(1))],
      ]),
      ["api key", new RegExp(STACK_API_KEY)],
      ["OTP_SECRET", new RegExp(TEST_SECRET)],
      ["twilio token", new RegExp(SIMULATOR_CREDENTIALS.twilio.authToken)],
      ["plivo token", new RegExp(SIMULATOR_CREDENTIALS.plivo.authToken)],
      ["vonage secret", new RegExp(SIMULATOR_CREDENTIALS.vonage.apiSecret)],
    ];
    expect(codes.every((value) => /^\d{6}$/.test(value))).toBe(true);
    const haystacks: [string, string][] = [
      ...capture.lines.map((line, index): [string, string] => [`log line ${index}`, line]),
      ...errorBodies.map((body, index): [string, string] => [`error body ${index}`, body]),
      ...failedReasons.map((reason, index): [string, string] => [`failed reason ${index}`, reason]),
      ...[...dump].map(([key, value]): [string, string] => [`redis ${key}`, `${key} ${value}`]),
    ];
    const leaks = haystacks.flatMap(([where, text]) =>
      needles.filter(([, pattern]) => pattern.test(text)).map(([what]) => `${what} in ${where}: ${text.slice(0, 400)}`),
    );
    expect(leaks).toEqual([]);
  }, 30_000);
});
