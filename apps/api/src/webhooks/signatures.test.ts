import { Vonage } from "@vonage/server-sdk";
import plivo from "plivo";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { plivoV3Signature, verifyPlivoSignature } from "./plivo-signature.js";
import { twilioSignature, verifyTwilioSignature } from "./twilio-signature.js";
import { verifyVonageSignature, vonageSignature } from "./vonage-signature.js";

const TOKEN = "webhook-test-token";
const RECEIPT = { MessageSid: "SM0123", MessageStatus: "delivered", To: "+14155550123", From: "+15005550006" };
/** @vonage/auth's AlgorithmTypes values; that package is not a direct dependency. */
const VONAGE_ALGORITHMS = {
  md5hash: "MD5HASH",
  md5hmac: "MD5HMAC",
  sha1hmac: "SHA1HMAC",
  sha256hmac: "SHA256HMAC",
  sha512hmac: "SHA512HMAC",
} as const;

describe("twilio signature", () => {
  it("matches the twilio SDK's expected signature", () => {
    const url = "https://otp.example.test/v1/webhooks/twilio?tenant=a";

    expect(twilioSignature(TOKEN, url, RECEIPT)).toBe(twilio.getExpectedTwilioSignature(TOKEN, url, RECEIPT));
  });

  it("accepts the default port written out or left out", () => {
    const signature = twilio.getExpectedTwilioSignature(TOKEN, "https://otp.example.test:443/v1/webhooks/twilio", RECEIPT);

    expect(verifyTwilioSignature(TOKEN, "https://otp.example.test/v1/webhooks/twilio", RECEIPT, signature)).toBe(true);
  });

  it("rejects a signature made for another port, which the SDK's validateRequest lets through", () => {
    const signature = twilio.getExpectedTwilioSignature(TOKEN, "https://otp.example.test/v1/webhooks/twilio", RECEIPT);
    const url = "https://otp.example.test:8443/v1/webhooks/twilio";

    expect(verifyTwilioSignature(TOKEN, url, RECEIPT, signature)).toBe(false);
    expect(twilio.validateRequest(TOKEN, signature, url, RECEIPT)).toBe(true);
  });

  it("rejects a changed parameter and a missing signature", () => {
    const url = "https://otp.example.test/v1/webhooks/twilio";
    const signature = twilioSignature(TOKEN, url, RECEIPT);

    expect(verifyTwilioSignature(TOKEN, url, { ...RECEIPT, MessageStatus: "undelivered" }, signature)).toBe(false);
    expect(verifyTwilioSignature(TOKEN, url, RECEIPT, undefined)).toBe(false);
  });
});

describe("plivo V3 signature", () => {
  it.each([
    "https://otp.example.test:8443/v1/webhooks/plivo",
    "https://otp.example.test/v1/webhooks/plivo",
    "https://otp.example.test/v1/webhooks/plivo?b=2&a=1",
  ])("is accepted by the plivo SDK's validateV3Signature for %s", (url) => {
    const params = { MessageUUID: "6f7c", Status: "undelivered", ErrorCode: "100" };
    const signature = plivoV3Signature(TOKEN, url, "12345", params);

    expect(plivo.validateV3Signature("POST", url, "12345", TOKEN, signature, params)).toBe(true);
    expect(verifyPlivoSignature(TOKEN, url, params, `other,${signature}`, "12345")).toBe(true);
  });

  it("includes the port", () => {
    const params = { MessageUUID: "6f7c", Status: "delivered" };
    const signature = plivoV3Signature(TOKEN, "https://otp.example.test:8443/v1/webhooks/plivo", "1", params);

    expect(verifyPlivoSignature(TOKEN, "https://otp.example.test/v1/webhooks/plivo", params, signature, "1")).toBe(false);
  });
});

describe("vonage signature", () => {
  const vonage = new Vonage({ apiKey: "key", apiSecret: "secret" });
  const params = { messageId: "0A00", status: "delivered", "err-code": "0", timestamp: "1700000000", nonce: "n=1&2" };

  it.each(Object.keys(VONAGE_ALGORITHMS) as (keyof typeof VONAGE_ALGORITHMS)[])(
    "%s matches the SDK's verifySignature",
    (method) => {
      const sig = vonageSignature(TOKEN, method, params);
      const algorithm = VONAGE_ALGORITHMS[method] as Parameters<Vonage["sms"]["verifySignature"]>[3];

      expect(vonage.sms.verifySignature(sig, { ...params, sig }, TOKEN, algorithm)).toBe(true);
      expect(verifyVonageSignature(TOKEN, method, { ...params, sig: sig.toUpperCase() })).toBe(true);
      expect(verifyVonageSignature(TOKEN, method, { ...params, status: "failed", sig })).toBe(false);
    },
  );
});
