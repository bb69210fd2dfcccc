import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { maskPhone, normalizePhone } from "./phone.js";

function fieldOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  return "accepted";
}

describe("normalizePhone", () => {
  it("rejects an international prefix followed by a trunk zero", () => {
    expect(fieldOf(() => normalizePhone("+0407123456", "AU"))).toBe("to");
  });

  it("normalises an australian national number", () => {
    expect(normalizePhone("0407 123 456", "AU").e164).toBe("+61407123456");
  });

  it.each(["07911 123456", "+44 (0)7911 123456", "0044 7911 123456"])("normalises the british form %s", (to) => {
    expect(normalizePhone(to, "GB").e164).toBe("+447911123456");
  });

  it("rejects an unassigned british range", () => {
    expect(fieldOf(() => normalizePhone("+447700900123"))).toBe("to");
  });

  it("strips a tel: prefix", () => {
    expect(normalizePhone("tel:+15005550006").e164).toBe("+15005550006");
  });

  it("accepts twilio test numbers", () => {
    expect(normalizePhone("+15005550001").e164).toBe("+15005550001");
  });

  it("rejects letters", () => {
    expect(fieldOf(() => normalizePhone("+1415CALLME"))).toBe("to");
  });

  it("rejects fixed-line and premium-rate numbers by default", () => {
    expect(fieldOf(() => normalizePhone("+442079460000"))).toBe("to");
    expect(fieldOf(() => normalizePhone("+449098790000"))).toBe("to");
  });

  it("rejects an unknown country code", () => {
    expect(fieldOf(() => normalizePhone("0407 123 456", "XX"))).toBe("country");
  });

  it("either returns e.164 or throws a validation error for any input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.option(fc.string({ maxLength: 3 }), { nil: undefined }), (to, country) => {
        try {
          const result = normalizePhone(to, country);
          expect(result.e164).toMatch(/^\+[1-9]\d{6,14}$/);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("accepts digit strings shaped like numbers without crashing", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+?[0-9 ()-]{0,20}$/), (to) => {
        expect(["to", "accepted"]).toContain(fieldOf(() => normalizePhone(to)));
      }),
      { numRuns: 500 },
    );
  });
});

describe("maskPhone", () => {
  it("keeps the prefix and last two digits", () => {
    expect(maskPhone("+15005550006")).toBe("+15005****06");
    expect(maskPhone("+447911123456")).toBe("+447911****56");
  });

  it("hides at least four digits of any number", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+[1-9]\d{6,14}$/), (e164) => {
        const visibleDigits = maskPhone(e164).replace(/\D/g, "").length;
        expect(e164.length - 1 - visibleDigits).toBeGreaterThanOrEqual(4);
      }),
    );
  });
});
