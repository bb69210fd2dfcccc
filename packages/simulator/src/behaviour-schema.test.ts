import { describe, expect, it } from "vitest";
import { InvalidBehaviourError, parseBehaviour, parseBehaviourScript } from "./behaviour-schema.js";
import { seededRandom } from "./random.js";

describe("parseBehaviour", () => {
  it("accepts every field", () => {
    const behaviour = {
      latencyMs: 50,
      failure: { status: 200, code: "5", message: "Internal Error" },
      errorRate: 0.25,
      failNext: 3,
      throttleNext: 1,
      mode: "normal",
    };

    expect(parseBehaviour(behaviour)).toEqual(behaviour);
  });

  it.each([
    [{ latencyMs: -1 }, "behaviour.latencyMs must be an integer from 0 to 600000"],
    [{ failure: { status: 700 } }, "behaviour.failure.status must be an integer from 200 to 599"],
    [{ failure: { status: 503, code: true } }, "behaviour.failure.code must be a string or a number"],
    [{ errorRate: 1.5 }, "behaviour.errorRate must be a number from 0 to 1"],
    [{ failNext: 1.5 }, "behaviour.failNext must be an integer from 0 to 9007199254740991"],
    [{ mode: "slow" }, 'behaviour.mode must be "normal", "hang" or "reset"'],
    [{ latency: 5 }, 'behaviour has unknown field "latency"'],
    [[], "behaviour must be a JSON object"],
  ])("rejects %j", (value, message) => {
    expect(() => parseBehaviour(value)).toThrow(InvalidBehaviourError);
    expect(() => parseBehaviour(value)).toThrow(message);
  });
});

describe("parseBehaviourScript", () => {
  it("parses behaviours per provider", () => {
    const script = parseBehaviourScript('{"twilio":{"failure":{"status":503}},"vonage":{"throttleNext":2}}');

    expect(script).toEqual({ twilio: { failure: { status: 503 } }, vonage: { throttleNext: 2 } });
  });

  it("rejects an unknown provider", () => {
    expect(() => parseBehaviourScript('{"sinch":{}}')).toThrow('behaviour script has unknown field "sinch"');
  });

  it("rejects malformed JSON", () => {
    expect(() => parseBehaviourScript("{twilio")).toThrow("behaviour script is not valid JSON");
  });

  it("names the provider of an invalid behaviour", () => {
    expect(() => parseBehaviourScript('{"plivo":{"mode":"slow"}}')).toThrow('plivo.mode must be "normal", "hang" or "reset"');
  });
});

describe("seededRandom", () => {
  it("repeats its sequence for the same seed", () => {
    const first = seededRandom(42);
    const second = seededRandom(42);
    const firstValues = Array.from({ length: 5 }, () => first());
    const secondValues = Array.from({ length: 5 }, () => second());

    expect(firstValues).toEqual(secondValues);
    for (const value of firstValues) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});
