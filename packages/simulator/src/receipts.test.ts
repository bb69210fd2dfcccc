import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Vonage } from "@vonage/server-sdk";
import plivo from "plivo";
import twilio from "twilio";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SIMULATOR_CREDENTIALS } from "./credentials.js";
import { type Simulator, startSimulator } from "./server.js";

interface Callback {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  params: Record<string, string>;
}

/** Local webhook receiver on 127.0.0.1 that records every callback and answers 204. */
class Receiver {
  readonly calls: Callback[] = [];
  private server!: Server;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const url = new URL(request.url ?? "/", "http://receiver.invalid");
        const text = Buffer.concat(chunks).toString("utf8");
        const body = request.headers["content-type"]?.startsWith("application/json")
          ? (JSON.parse(text) as Record<string, string>)
          : Object.fromEntries(new URLSearchParams(text));
        const params = request.method === "GET" ? Object.fromEntries(url.searchParams) : body;
        this.calls.push({ method: request.method ?? "", path: url.pathname, headers: request.headers, params });
        response.writeHead(204).end();
      });
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Waits until `count` callbacks arrived; bounded by `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 3000): Promise<Callback[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.calls.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.calls.length} of ${count} callbacks arrived`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.calls;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const PUBLIC = "https://otp.example.test";
/** @vonage/auth's MD5HASH; that package is not a direct dependency. */
const MD5HASH = "MD5HASH" as Parameters<Vonage["sms"]["verifySignature"]>[3];
let simulator: Simulator;
let receiver: Receiver;

beforeAll(async () => {
  simulator = await startSimulator({ receiptDelayMs: 10 });
  receiver = await new Receiver().start();
});
beforeEach(() => {
  simulator.reset();
  simulator.setReceiptOptions({ delayMs: 10, redirects: {}, vonageMethod: "GET" });
  receiver.calls.length = 0;
});
afterAll(async () => {
  await simulator.close();
  await receiver.close();
});

function twilioClient(): twilio.Twilio {
  const client = twilio(SIMULATOR_CREDENTIALS.twilio.accountSid, SIMULATOR_CREDENTIALS.twilio.authToken);
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

describe("delivery receipts", () => {
  it("posts twilio sent then delivered, signed as twilio signs", async () => {
    const callbackUrl = `${receiver.url}/v1/webhooks/twilio`;
    const message = await twilioClient().messages.create({
      to: "+14155550123",
      from: "+15005550006",
      body: "code 123456",
      statusCallback: callbackUrl,
    });

    const calls = await receiver.waitFor(2);

    expect(calls.map((call) => call.params.MessageStatus)).toEqual(["sent", "delivered"]);
    for (const call of calls) {
      expect(call.params).toMatchObject({ MessageSid: message.sid, To: "+14155550123", From: "+15005550006" });
      const expected = twilio.getExpectedTwilioSignature(SIMULATOR_CREDENTIALS.twilio.authToken, callbackUrl, call.params);
      expect(call.headers["x-twilio-signature"]).toBe(expected);
      expect(twilio.validateRequest(SIMULATOR_CREDENTIALS.twilio.authToken, expected, callbackUrl, call.params)).toBe(true);
    }
  });

  it("reports undelivered 30034 for the route-error recipient", async () => {
    await twilioClient().messages.create({
      to: "+15005550010",
      from: "+15005550006",
      body: "code 123456",
      statusCallback: `${receiver.url}/cb`,
    });

    const calls = await receiver.waitFor(2);

    expect(calls[1]?.params).toMatchObject({
      MessageStatus: "undelivered",
      ErrorCode: "30034",
      AccountSid: SIMULATOR_CREDENTIALS.twilio.accountSid,
    });
  });

  it("signs for the public URL and sends to the redirect target", async () => {
    simulator.setReceiptOptions({ redirects: { [PUBLIC]: receiver.url } });
    const callbackUrl = `${PUBLIC}/v1/webhooks/twilio`;
    await twilioClient().messages.create({
      to: "+15005550011",
      from: "+15005550006",
      body: "code 1",
      statusCallback: callbackUrl,
    });

    const calls = await receiver.waitFor(2);

    expect(calls[1]?.path).toBe("/v1/webhooks/twilio");
    expect(calls[1]?.params).toMatchObject({ MessageStatus: "undelivered", ErrorCode: "30003" });
    const expected = twilio.getExpectedTwilioSignature(
      SIMULATOR_CREDENTIALS.twilio.authToken,
      callbackUrl,
      calls[1]?.params ?? {},
    );
    expect(calls[1]?.headers["x-twilio-signature"]).toBe(expected);
    // The receiver saw the call before the simulator read the response status.
    await expect.poll(() => simulator.receipts()[1]?.httpStatus).toBe(204);
    expect(simulator.receipts()[1]).toMatchObject({
      signedUrl: callbackUrl,
      targetUrl: `${receiver.url}/v1/webhooks/twilio`,
      httpStatus: 204,
    });
  });

  it("posts plivo receipts that plivo's validateV3Signature accepts, port included", async () => {
    const signedFor = "https://otp.example.test:8443/v1/webhooks/plivo";
    simulator.setReceiptOptions({ redirects: { "https://otp.example.test:8443": receiver.url } });
    const response = await plivoClient().messages.create("+15005550006", "15005550010", "code 123456", { url: signedFor });

    const calls = await receiver.waitFor(2);
    const final = calls[1] as Callback;

    expect(final.params).toMatchObject({ MessageUUID: response.messageUuid[0], Status: "undelivered", ErrorCode: "100" });
    const nonce = String(final.headers["x-plivo-signature-v3-nonce"]);
    const signature = String(final.headers["x-plivo-signature-v3"]);
    const { authToken } = SIMULATOR_CREDENTIALS.plivo;
    expect(plivo.validateV3Signature("POST", signedFor, nonce, authToken, signature, final.params)).toBe(true);
    expect(
      plivo.validateV3Signature("POST", "https://otp.example.test/v1/webhooks/plivo", nonce, authToken, signature, final.params),
    ).toBe(false);
  });

  it.each(["GET", "POST", "POST-JSON"] as const)(
    "sends a vonage DLR by %s that the SDK's verifySignature accepts",
    async (method) => {
      simulator.setReceiptOptions({ vonageMethod: method });
      const vonage = vonageClient();
      const sent = await vonage.sms.send({
        to: "15005550011",
        from: "OTPIN",
        text: "code 123456",
        callback: `${receiver.url}/dlr`,
      });

      const [call] = await receiver.waitFor(1);

      expect(call?.method).toBe(method === "GET" ? "GET" : "POST");
      expect(call?.params).toMatchObject({
        messageId: sent.messages[0]?.messageId,
        status: "expired",
        "err-code": "2",
        msisdn: "15005550011",
      });
      const params = call?.params ?? {};
      const { signatureSecret } = SIMULATOR_CREDENTIALS.vonage;
      expect(vonage.sms.verifySignature(params.sig ?? "", params, signatureSecret, MD5HASH)).toBe(true);
      expect(vonage.sms.verifySignature(params.sig ?? "", { ...params, status: "delivered" }, signatureSecret, MD5HASH)).toBe(
        false,
      );
    },
  );

  it("sends no receipt when the request carried no callback URL", async () => {
    await twilioClient().messages.create({ to: "+14155550123", from: "+15005550006", body: "code 1" });
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(receiver.calls).toEqual([]);
  });

  it("sends a receipt by hand through POST /_control/receipt", async () => {
    simulator.setReceiptOptions({ delayMs: 60_000 });
    const message = await twilioClient().messages.create({
      to: "+14155550123",
      from: "+15005550006",
      body: "code 1",
      statusCallback: `${receiver.url}/late`,
    });

    const response = await fetch(`${simulator.url}/_control/receipt`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ provider: "twilio", messageId: message.sid, status: "undelivered", errorCode: "30005" }),
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ httpStatus: 204, status: "undelivered" });
    expect(receiver.calls).toHaveLength(1);
    expect(receiver.calls[0]?.params).toMatchObject({
      MessageSid: message.sid,
      MessageStatus: "undelivered",
      ErrorCode: "30005",
    });
  });

  it("changes receipt options through PUT /_control/receipts", async () => {
    const response = await fetch(`${simulator.url}/_control/receipts`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ delayMs: 5, redirects: { [PUBLIC]: receiver.url }, vonageMethod: "POST" }),
    });
    const listed = (await (await fetch(`${simulator.url}/_control/receipts`)).json()) as Record<string, unknown>;

    expect(response.status).toBe(204);
    expect(listed.options).toEqual({ delayMs: 5, redirects: { [PUBLIC]: receiver.url }, vonageMethod: "POST" });
  });

  it("rejects an unknown vonage method", async () => {
    const response = await fetch(`${simulator.url}/_control/receipts`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ vonageMethod: "PUT" }),
    });

    expect(response.status).toBe(400);
  });
});
