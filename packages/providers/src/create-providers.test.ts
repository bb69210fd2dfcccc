import { loadWorkerConfig } from "@otpin/core";
import { describe, expect, it } from "vitest";
import { createEmailChannel, createSmsProviders } from "./create-providers.js";

const BASE_ENV = {
  DEMO_MODE: "true",
  TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
  TWILIO_AUTH_TOKEN: "token",
  TWILIO_FROM: "+15005550006",
  PLIVO_AUTH_ID: "MAOTPINSIMULATOR0001",
  PLIVO_AUTH_TOKEN: "token",
  PLIVO_FROM: "+14155550100",
  VONAGE_API_KEY: "key",
  VONAGE_API_SECRET: "secret",
  VONAGE_FROM: "otpin",
};

describe("createSmsProviders", () => {
  it("creates the providers of SMS_PROVIDERS", () => {
    const providers = createSmsProviders(loadWorkerConfig({ ...BASE_ENV, SMS_PROVIDERS: "vonage,twilio" }));

    expect([...providers.keys()]).toEqual(["vonage", "twilio"]);
    expect(providers.get("vonage")?.name).toBe("vonage");
    expect(providers.get("twilio")?.name).toBe("twilio");
  });

  it("adds providers named only in SMS_ROUTES", () => {
    const providers = createSmsProviders(
      loadWorkerConfig({ ...BASE_ENV, SMS_PROVIDERS: "twilio", SMS_ROUTES: "IN=plivo,twilio" }),
    );

    expect([...providers.keys()]).toEqual(["twilio", "plivo"]);
  });
});

describe("createEmailChannel", () => {
  it("returns undefined without SMTP_URL", () => {
    expect(createEmailChannel(loadWorkerConfig(BASE_ENV))).toBeUndefined();
  });

  it("creates the channel when SMTP_URL is set", async () => {
    const channel = createEmailChannel(
      loadWorkerConfig({ ...BASE_ENV, SMTP_URL: "smtp://127.0.0.1:2525", EMAIL_FROM: "otp@example.com" }),
    );

    expect(channel?.name).toBe("email");
    await channel?.close();
  });
});
