import { describe, expect, it } from "vitest";
import { DELIVERY_ERROR_CLASSES, DeliveryError } from "./delivery-error.js";

describe("DeliveryError", () => {
  it.each([
    ["invalid_recipient", false, false],
    ["opted_out", false, false],
    ["not_permitted", true, false],
    ["throttled", true, true],
    ["provider_unavailable", true, true],
    ["timeout", true, true],
    ["auth", true, true],
    ["unknown", true, true],
  ] as const)("treats %s as retryable=%s and breaker failure=%s", (errorClass, retryable, counts) => {
    const error = new DeliveryError(errorClass, "failed", { provider: "twilio" });
    expect(error.retryable).toBe(retryable);
    expect(error.countsAgainstBreaker).toBe(counts);
  });

  it("covers every class in the table above", () => {
    expect(DELIVERY_ERROR_CLASSES).toHaveLength(8);
  });

  it("lets an account-wide restriction count against the breaker", () => {
    const error = new DeliveryError("not_permitted", "failed", { provider: "vonage", countsAgainstBreaker: true });
    expect(error.countsAgainstBreaker).toBe(true);
  });

  it("never counts a recipient error, whatever the override", () => {
    const error = new DeliveryError("opted_out", "failed", { provider: "vonage", countsAgainstBreaker: true });
    expect(error.countsAgainstBreaker).toBe(false);
  });
});
