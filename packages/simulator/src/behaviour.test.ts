import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "./server.js";
import { ACCEPTED_TO, plivoSend, twilioSend, vonageSend } from "./test-support/requests.js";

const twilioFields = { To: ACCEPTED_TO, From: "+15005550006", Body: "hi" };
const plivoFields = { src: "+15005550006", dst: ACCEPTED_TO, text: "hi" };
const vonageFields = { from: "OTPIN", to: ACCEPTED_TO.slice(1), text: "hi" };

/** Random source whose next values the test sets. */
const scriptedRandom: number[] = [];
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ random: () => scriptedRandom.shift() ?? 0 });
});
afterEach(() => {
  simulator.reset();
  scriptedRandom.length = 0;
});
afterAll(() => simulator.close());

async function jsonOf(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe("failure behaviour", () => {
  it("answers twilio requests with the scripted status and code", async () => {
    simulator.setBehaviour("twilio", { failure: { status: 503, code: 20503, message: "Service Unavailable" } });
    const response = await twilioSend(simulator.url, twilioFields);
    const body = await jsonOf(response);

    expect(response.status).toBe(503);
    expect(body.code).toBe(20503);
    expect(body.message).toBe("Service Unavailable");
    expect(simulator.messages()).toEqual([]);
  });

  it("derives the twilio code from the status when none is set", async () => {
    simulator.setBehaviour("twilio", { failure: { status: 500 } });
    const body = await jsonOf(await twilioSend(simulator.url, twilioFields));

    expect(body.code).toBe(20500);
  });

  it("answers plivo requests with the scripted status and error", async () => {
    simulator.setBehaviour("plivo", { failure: { status: 500, message: "internal error" } });
    const response = await plivoSend(simulator.url, plivoFields);
    const body = await jsonOf(response);

    expect(response.status).toBe(500);
    expect(body.error).toBe("internal error");
  });

  it("answers vonage status 200 failures with the code as message status", async () => {
    simulator.setBehaviour("vonage", { failure: { status: 200, code: "5" } });
    const response = await vonageSend(simulator.url, vonageFields);
    const body = (await response.json()) as { messages: Array<Record<string, string>> };

    expect(response.status).toBe(200);
    expect(body.messages[0]?.status).toBe("5");
    expect(body.messages[0]?.["error-text"]).toBe("Internal Error");
  });

  it("answers vonage non-200 failures with that HTTP status", async () => {
    simulator.setBehaviour("vonage", { failure: { status: 502 } });
    const response = await vonageSend(simulator.url, vonageFields);

    expect(response.status).toBe(502);
  });

  it("leaves other providers normal", async () => {
    simulator.setBehaviour("twilio", { failure: { status: 503 } });
    const response = await plivoSend(simulator.url, plivoFields);

    expect(response.status).toBe(202);
  });

  it("applies failNext to the next requests only", async () => {
    simulator.setBehaviour("twilio", { failure: { status: 503 }, failNext: 2 });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) statuses.push((await twilioSend(simulator.url, twilioFields)).status);

    expect(statuses).toEqual([503, 503, 201]);
    expect(simulator.messages()).toHaveLength(1);
    expect(simulator.requestCount("twilio")).toBe(3);
  });

  it("applies errorRate with the injected random", async () => {
    simulator.setBehaviour("plivo", { failure: { status: 503 }, errorRate: 0.5 });
    scriptedRandom.push(0.2, 0.7, 0.49, 0.5);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) statuses.push((await plivoSend(simulator.url, plivoFields)).status);

    expect(statuses).toEqual([503, 202, 503, 202]);
  });

  it("does not consume failNext on bad credentials", async () => {
    simulator.setBehaviour("twilio", { failure: { status: 503 }, failNext: 1 });
    const rejected = await twilioSend(simulator.url, twilioFields, "Basic bm9ib2R5Om5vcGU=");
    const failed = await twilioSend(simulator.url, twilioFields);

    expect(rejected.status).toBe(401);
    expect(failed.status).toBe(503);
  });
});

describe("throttle behaviour", () => {
  it("answers twilio with 429 code 20429, then normally", async () => {
    simulator.setBehaviour("twilio", { throttleNext: 1 });
    const throttled = await twilioSend(simulator.url, twilioFields);
    const body = await jsonOf(throttled);
    const next = await twilioSend(simulator.url, twilioFields);

    expect(throttled.status).toBe(429);
    expect(body.code).toBe(20429);
    expect(next.status).toBe(201);
  });

  it("answers plivo with 429", async () => {
    simulator.setBehaviour("plivo", { throttleNext: 1 });
    const response = await plivoSend(simulator.url, plivoFields);

    expect(response.status).toBe(429);
  });

  it("answers vonage with status 1", async () => {
    simulator.setBehaviour("vonage", { throttleNext: 1 });
    const response = await vonageSend(simulator.url, vonageFields);
    const body = (await response.json()) as { messages: Array<Record<string, string>> };

    expect(response.status).toBe(200);
    expect(body.messages[0]?.status).toBe("1");
    expect(body.messages[0]?.["error-text"]).toBe("Throughput Rate Exceeded");
  });

  it("throttles before failNext counts down", async () => {
    simulator.setBehaviour("plivo", { throttleNext: 1, failure: { status: 503 }, failNext: 1 });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) statuses.push((await plivoSend(simulator.url, plivoFields)).status);

    expect(statuses).toEqual([429, 503, 202]);
  });
});

describe("connection behaviour", () => {
  it("answers after the scripted latency", async () => {
    simulator.setBehaviour("vonage", { latencyMs: 20 });
    const response = await vonageSend(simulator.url, vonageFields);

    expect(response.status).toBe(200);
    expect(simulator.messages({ provider: "vonage" })).toHaveLength(1);
  });

  it("never answers in hang mode", async () => {
    simulator.setBehaviour("twilio", { mode: "hang" });
    const request = twilioSend(simulator.url, twilioFields, undefined, { signal: AbortSignal.timeout(200) });

    await expect(request).rejects.toThrow(/abort|timeout/i);
    expect(simulator.requestCount("twilio")).toBe(1);
    expect(simulator.messages()).toEqual([]);
  });

  it("drops the connection in reset mode", async () => {
    simulator.setBehaviour("plivo", { mode: "reset" });

    await expect(plivoSend(simulator.url, plivoFields)).rejects.toThrow(TypeError);
    expect(simulator.requestCount("plivo")).toBe(1);
    expect(simulator.messages()).toEqual([]);
  });
});
