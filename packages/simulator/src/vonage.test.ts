import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SIMULATOR_CREDENTIALS } from "./credentials.js";
import { MAGIC_RECIPIENTS } from "./magic-recipients.js";
import { type Simulator, startSimulator } from "./server.js";
import { ACCEPTED_TO, basicAuth, vonageSend } from "./test-support/requests.js";

interface VonageAnswer {
  "message-count": string;
  messages: Array<Record<string, string>>;
}

const { apiKey, apiSecret } = SIMULATOR_CREDENTIALS.vonage;
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator();
});
beforeEach(() => simulator.reset());
afterAll(() => simulator.close());

describe("vonage sms api", () => {
  it("accepts a message and answers 200 with status 0", async () => {
    const response = await vonageSend(simulator.url, { from: "OTPIN", to: "14155550123", text: "Your code is 123456" });
    const body = (await response.json()) as VonageAnswer;
    const message = body.messages[0];

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(body["message-count"]).toBe("1");
    expect(message?.status).toBe("0");
    expect(message?.to).toBe("14155550123");
    expect(message?.["message-id"]).toMatch(/^[0-9A-F]{16}$/);
    expect(message?.["remaining-balance"]).toBe("10.0");
    expect(message?.["message-price"]).toBe("0.03");
    expect(message?.network).toBe("12345");
    expect(simulator.messages()).toEqual([
      expect.objectContaining({
        id: message?.["message-id"],
        provider: "vonage",
        to: ACCEPTED_TO,
        from: "OTPIN",
        body: "Your code is 123456",
      }),
    ]);
  });

  it("accepts a form body with api_key and api_secret fields", async () => {
    const response = await fetch(`${simulator.url}/sms/json`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        api_key: apiKey,
        api_secret: apiSecret,
        from: "OTPIN",
        to: "14155550123",
        text: "hi",
        type: "unicode",
      }).toString(),
    });
    const body = (await response.json()) as VonageAnswer;

    expect(body.messages[0]?.status).toBe("0");
    expect(simulator.messages({ provider: "vonage" })).toHaveLength(1);
  });

  it("answers bad credentials with HTTP 200 and status 4", async () => {
    const response = await vonageSend(
      simulator.url,
      { from: "OTPIN", to: "14155550123", text: "hi" },
      basicAuth(apiKey, "wrong"),
    );
    const body = (await response.json()) as VonageAnswer;

    expect(response.status).toBe(200);
    expect(body.messages[0]?.status).toBe("4");
    expect(body.messages[0]?.["error-text"]).toBe("Bad Credentials");
    expect(simulator.messages()).toEqual([]);
  });

  it.each(Object.entries(MAGIC_RECIPIENTS))("answers magic recipient %s with its status", async (to, magic) => {
    const response = await vonageSend(simulator.url, { from: "OTPIN", to: to.slice(1), text: "hi" });
    const body = (await response.json()) as VonageAnswer;

    expect(response.status).toBe(200);
    expect(body.messages[0]?.status).toBe(magic.vonage.status);
    expect(body.messages[0]?.["error-text"]).toBe(magic.vonage.errorText);
    expect(simulator.messages()).toEqual([]);
  });

  it("answers a missing to with status 2", async () => {
    const response = await vonageSend(simulator.url, { from: "OTPIN", text: "hi" });
    const body = (await response.json()) as VonageAnswer;

    expect(body.messages[0]?.status).toBe("2");
    expect(body.messages[0]?.["error-text"]).toBe("Missing to param");
  });
});
