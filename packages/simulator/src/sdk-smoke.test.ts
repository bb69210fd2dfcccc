import { Vonage } from "@vonage/server-sdk";
import plivo from "plivo";
import twilio from "twilio";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SIMULATOR_CREDENTIALS } from "./credentials.js";
import { type Simulator, startSimulator } from "./server.js";

const TO = "+14155550123";
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator();
});
beforeEach(() => simulator.reset());
afterAll(() => simulator.close());

function twilioClient(): twilio.Twilio {
  const { accountSid, authToken } = SIMULATOR_CREDENTIALS.twilio;
  const client = twilio(accountSid, authToken);
  // twilio-node has no base URL option; its Api domain reads baseUrl on every request.
  client.api.baseUrl = simulator.url;
  return client;
}

function plivoClient(): plivo.Client {
  const { authId, authToken } = SIMULATOR_CREDENTIALS.plivo;
  return new plivo.Client(authId, authToken, { url: `${simulator.url}/v1/Account/${authId}` });
}

function vonageClient(): Vonage {
  const { apiKey, apiSecret } = SIMULATOR_CREDENTIALS.vonage;
  return new Vonage({ apiKey, apiSecret }, { restHost: simulator.url });
}

describe("official SDKs against the simulator", () => {
  it("twilio-node sends a message", async () => {
    const message = await twilioClient().messages.create({ to: TO, from: "+15005550006", body: "code 123456" });

    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe("queued");
    expect(message.dateCreated).toBeInstanceOf(Date);
    expect(simulator.messages({ provider: "twilio" })[0]?.id).toBe(message.sid);
  });

  it("twilio-node surfaces the error code of a magic recipient", async () => {
    const sending = twilioClient().messages.create({ to: "+15005550004", from: "+15005550006", body: "code 123456" });

    await expect(sending).rejects.toMatchObject({ status: 400, code: 21610 });
  });

  it("plivo sends a message", async () => {
    const response = await plivoClient().messages.create("+15005550006", "14155550123", "code 123456");

    expect(response.messageUuid).toHaveLength(1);
    expect(simulator.messages({ provider: "plivo" })[0]?.id).toBe(response.messageUuid[0]);
  });

  it("plivo rejects a geo-blocked recipient", async () => {
    const sending = plivoClient().messages.create("+15005550006", "15005550003", "code 123456");

    await expect(sending).rejects.toMatchObject({
      status: 403,
      message: "sending to this destination is not permitted for this account",
    });
  });

  it("vonage sends a message", async () => {
    const response = await vonageClient().sms.send({ to: "14155550123", from: "OTPIN", text: "code 123456" });

    expect(response.messages[0]?.status).toBe("0");
    expect(simulator.messages({ provider: "vonage" })[0]?.id).toBe(response.messages[0]?.messageId);
  });

  it("vonage reports an opted-out recipient as a failed message", async () => {
    const sending = vonageClient().sms.send({ to: "15005550004", from: "OTPIN", text: "code 123456" });

    await expect(sending).rejects.toMatchObject({ response: { messages: [{ status: "7", errorText: "Number barred." }] } });
  });
});
