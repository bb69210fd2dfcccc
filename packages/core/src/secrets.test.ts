import { describe, expect, it } from "vitest";
import { codeMatches, generateCode, hashCode } from "./codes.js";
import { PayloadError } from "./errors.js";
import { createPayloadCipher, deriveKeys } from "./secrets.js";

const SECRET = "a".repeat(40);
const OTHER = "b".repeat(40);

describe("payload cipher", () => {
  it("round-trips a payload bound to its id", () => {
    const cipher = createPayloadCipher(SECRET);
    const sealed = cipher.encrypt({ to: "+15005550006", code: "123456" }, "otp_1");
    expect(JSON.stringify(sealed)).not.toContain("123456");
    expect(JSON.stringify(sealed)).not.toContain("5005550006");
    expect(cipher.decrypt(sealed, "otp_1")).toEqual({ to: "+15005550006", code: "123456" });
  });

  it("rejects a payload moved to another id", () => {
    const cipher = createPayloadCipher(SECRET);
    const sealed = cipher.encrypt({ code: "1" }, "otp_1");
    expect(() => cipher.decrypt(sealed, "otp_2")).toThrow(PayloadError);
  });

  it("decrypts with the previous secret after rotation", () => {
    const sealed = createPayloadCipher(OTHER).encrypt({ code: "9" }, "otp_1");
    const rotated = createPayloadCipher(SECRET, OTHER);
    expect(rotated.decrypt(sealed, "otp_1")).toEqual({ code: "9" });
    expect(() => createPayloadCipher(SECRET).decrypt(sealed, "otp_1")).toThrow(/OTP_SECRET_PREVIOUS/);
  });

  it("rejects a tampered ciphertext", () => {
    const cipher = createPayloadCipher(SECRET);
    const sealed = cipher.encrypt({ code: "1" }, "otp_1");
    const data = Buffer.from(sealed.data, "base64");
    data[0] = (data[0] ?? 0) ^ 1;
    expect(() => cipher.decrypt({ ...sealed, data: data.toString("base64") }, "otp_1")).toThrow(PayloadError);
  });
});

describe("codes", () => {
  it("generates digits of the requested length", () => {
    for (const length of [4, 6, 10]) expect(generateCode(length)).toMatch(new RegExp(`^\\d{${length}}$`));
  });

  it("matches only the same code for the same id", () => {
    const key = deriveKeys(SECRET).codeHashKey;
    const stored = hashCode(key, "otp_1", "123456");
    expect(stored).not.toContain("123456");
    expect(codeMatches(key, "otp_1", "123456", stored)).toBe(true);
    expect(codeMatches(key, "otp_1", "123457", stored)).toBe(false);
    expect(codeMatches(key, "otp_2", "123456", stored)).toBe(false);
  });
});
