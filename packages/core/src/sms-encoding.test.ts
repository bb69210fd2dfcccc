import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countSmsSegments, isGsm7 } from "./sms-encoding.js";
import { renderSms } from "./templates.js";

describe("countSmsSegments", () => {
  const table: [string, string, "GSM-7" | "UCS-2", number, number][] = [
    ["french accents", "Pensez à votre rendez-vous demain à la pharmacie", "GSM-7", 48, 1],
    ["160 plain", "a".repeat(160), "GSM-7", 160, 1],
    ["161 plain", "a".repeat(161), "GSM-7", 161, 2],
    ["158 plus euro", `${"a".repeat(158)}€`, "GSM-7", 160, 1],
    ["159 plus euro", `${"a".repeat(159)}€`, "GSM-7", 161, 2],
    ["curly apostrophe", "Your code is 123456. Don’t share it.", "UCS-2", 36, 1],
    ["spanish o acute", "Código: 123456", "UCS-2", 14, 1],
    ["70 han", "中".repeat(70), "UCS-2", 70, 1],
    ["71 han", "中".repeat(71), "UCS-2", 71, 2],
    ["35 emoji", "🙂".repeat(35), "UCS-2", 70, 1],
    ["36 emoji", "🙂".repeat(36), "UCS-2", 72, 2],
  ];

  it.each(table)("counts %s", (_name, text, encoding, units, segments) => {
    const info = countSmsSegments(text);
    expect(info.encoding).toBe(encoding);
    expect(info.units).toBe(units);
    expect(info.segments).toBe(segments);
  });

  it("uses 153 units per concatenated gsm-7 segment", () => {
    expect(countSmsSegments("a".repeat(306)).segments).toBe(2);
    expect(countSmsSegments("a".repeat(307)).segments).toBe(3);
  });

  it("never reports fewer segments than units require", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), (text) => {
        const info = countSmsSegments(text);
        const perPart = info.encoding === "GSM-7" ? 153 : 67;
        const single = info.encoding === "GSM-7" ? 160 : 70;
        expect(info.segments).toBeGreaterThanOrEqual(1);
        if (info.units > single) expect(info.segments * perPart).toBeGreaterThanOrEqual(info.units);
        expect(info.encoding === "GSM-7").toBe(isGsm7(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe("renderSms", () => {
  it("fits one gsm-7 segment with the longest code and app name", () => {
    const body = renderSms({ code: "0123456789", appName: "A".repeat(30), ttlSeconds: 86_400 });
    const info = countSmsSegments(body);
    expect(info.encoding).toBe("GSM-7");
    expect(info.segments).toBe(1);
  });

  it("states the code, app name and validity in minutes", () => {
    const body = renderSms({ code: "123456", appName: "Acme", ttlSeconds: 300 });
    expect(body).toBe("Your Acme code is 123456. It expires in 5 minutes. Do not share it.");
  });
});
