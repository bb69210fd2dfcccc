import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { DeliveryError, type DeliveryErrorClass, type SmsProviderName } from "@otpin/core";
import { SIMULATOR_CREDENTIALS, type Simulator, startSimulator } from "@otpin/simulator";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PlivoProvider } from "./plivo.provider.js";
import { TwilioProvider } from "./twilio.provider.js";
import type { SmsMessage, SmsProvider } from "./types.js";
import { VonageProvider } from "./vonage.provider.js";

// Long enough that a loaded CI machine still gets ordinary responses in time; only the hang test waits it out.
const TIMEOUT_MS = 1000;
const RECIPIENT = "+14155550123";
const BODY = "Your otpin code is 482913. It expires in 5 minutes.";

interface AdapterOptions {
  apiUrl: string;
  /** Sends a wrong token or secret in place of the simulator's. */
  badCredentials?: boolean;
}

interface AdapterCase {
  name: SmsProviderName;
  create(options: AdapterOptions): SmsProvider;
  /** Values that must never appear in an error message. */
  secrets: string[];
}

const BAD_SECRET = "wrong-secret-value-123";

const ADAPTERS: AdapterCase[] = [
  {
    name: "twilio",
    create: ({ apiUrl, badCredentials }) =>
      new TwilioProvider({
        accountSid: SIMULATOR_CREDENTIALS.twilio.accountSid,
        authToken: badCredentials ? BAD_SECRET : SIMULATOR_CREDENTIALS.twilio.authToken,
        from: "+15005550006",
        apiUrl,
        timeoutMs: TIMEOUT_MS,
      }),
    secrets: [SIMULATOR_CREDENTIALS.twilio.authToken],
  },
  {
    name: "plivo",
    create: ({ apiUrl, badCredentials }) =>
      new PlivoProvider({
        authId: SIMULATOR_CREDENTIALS.plivo.authId,
        authToken: badCredentials ? BAD_SECRET : SIMULATOR_CREDENTIALS.plivo.authToken,
        from: "+14155550100",
        apiUrl: `${apiUrl}/v1/Account/${SIMULATOR_CREDENTIALS.plivo.authId}`,
        timeoutMs: TIMEOUT_MS,
      }),
    secrets: [SIMULATOR_CREDENTIALS.plivo.authToken],
  },
  {
    name: "vonage",
    create: ({ apiUrl, badCredentials }) =>
      new VonageProvider({
        apiKey: SIMULATOR_CREDENTIALS.vonage.apiKey,
        apiSecret: badCredentials ? BAD_SECRET : SIMULATOR_CREDENTIALS.vonage.apiSecret,
        from: "otpin",
        apiUrl,
        timeoutMs: TIMEOUT_MS,
      }),
    secrets: [SIMULATOR_CREDENTIALS.vonage.apiSecret],
  },
];

const MAGIC_RECIPIENT_CLASSES: [string, DeliveryErrorClass][] = [
  ["+15005550001", "invalid_recipient"],
  ["+15005550009", "invalid_recipient"],
  ["+15005550004", "opted_out"],
  ["+15005550003", "not_permitted"],
];

function sms(to: string, body = BODY): SmsMessage {
  return { otpId: "otp_contract", to, body };
}

/** Awaits a rejection and checks that it is a DeliveryError of the provider that leaks nothing. */
async function expectFailure(adapter: AdapterCase, promise: Promise<unknown>, message: SmsMessage): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  const failure = error as DeliveryError;
  expect(failure.provider).toBe(adapter.name);
  for (const secret of [...adapter.secrets, BAD_SECRET]) expect(failure.message).not.toContain(secret);
  expect(failure.message).not.toContain(message.to.slice(1));
  expect(failure.message).not.toContain("482913");
  return failure;
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Starts a receiver on 127.0.0.1 that records the message id of each delivery receipt. */
async function receiptReceiver(): Promise<{ url: string; ids: string[]; close: () => Promise<void> }> {
  const ids: string[] = [];
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://receiver.invalid");
      const params = new URLSearchParams(request.method === "GET" ? url.search : Buffer.concat(chunks).toString("utf8"));
      ids.push(params.get("MessageSid") ?? params.get("MessageUUID") ?? params.get("messageId") ?? "");
      response.writeHead(204).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/receipts`;
  return { url, ids, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe.each(ADAPTERS)("$name adapter against the simulator", (adapter) => {
  let simulator: Simulator;
  let provider: SmsProvider;

  beforeAll(async () => {
    simulator = await startSimulator();
    provider = adapter.create({ apiUrl: simulator.url });
  });

  afterAll(async () => {
    await simulator.close();
  });

  beforeEach(() => {
    simulator.reset();
  });

  it("returns the provider's message id on acceptance", async () => {
    const result = await provider.send(sms(RECIPIENT));

    const recorded = simulator.messages({ provider: adapter.name });
    expect(recorded).toHaveLength(1);
    expect(result).toEqual({ provider: adapter.name, messageId: recorded[0]?.id });
    expect(recorded[0]?.to).toBe(RECIPIENT);
    expect(recorded[0]?.body).toBe(BODY);
  });

  it("passes the status callback URL, so the provider posts receipts there", async () => {
    simulator.setReceiptOptions({ delayMs: 5 });
    const receiver = await receiptReceiver();
    try {
      const result = await provider.send({ ...sms(RECIPIENT), statusCallbackUrl: receiver.url });
      const deadline = Date.now() + 3000;
      while (receiver.ids.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

      expect(receiver.ids[0]).toBe(result.messageId);
    } finally {
      await receiver.close();
    }
  });

  it.each(MAGIC_RECIPIENT_CLASSES)("maps magic recipient %s to %s", async (to, errorClass) => {
    const message = sms(to);
    const error = await expectFailure(adapter, provider.send(message), message);

    expect(error.errorClass).toBe(errorClass);
    expect(simulator.messages()).toHaveLength(0);
  });

  it("maps bad credentials to auth", async () => {
    const message = sms(RECIPIENT);
    const wrong = adapter.create({ apiUrl: simulator.url, badCredentials: true });

    const error = await expectFailure(adapter, wrong.send(message), message);

    expect(error.errorClass).toBe("auth");
  });

  it("maps HTTP 503 to provider_unavailable", async () => {
    simulator.setBehaviour(adapter.name, { failure: { status: 503 } });
    const message = sms(RECIPIENT);

    const error = await expectFailure(adapter, provider.send(message), message);

    expect(error.errorClass).toBe("provider_unavailable");
    expect(error.providerHttpStatus).toBe(503);
  });

  it("maps HTTP 429 to throttled", async () => {
    simulator.setBehaviour(adapter.name, { failure: { status: 429 } });
    const message = sms(RECIPIENT);

    const error = await expectFailure(adapter, provider.send(message), message);

    expect(error.errorClass).toBe("throttled");
    expect(error.providerHttpStatus).toBe(429);
  });

  it("maps the provider's throttling response to throttled", async () => {
    simulator.setBehaviour(adapter.name, { throttleNext: 1 });
    const message = sms(RECIPIENT);

    const error = await expectFailure(adapter, provider.send(message), message);

    expect(error.errorClass).toBe("throttled");
  });

  it("times out within about timeoutMs when the provider hangs", async () => {
    simulator.setBehaviour(adapter.name, { mode: "hang" });
    const message = sms(RECIPIENT);
    const started = Date.now();

    const error = await expectFailure(adapter, provider.send(message), message);

    expect(error.errorClass).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
  });

  it("maps a connection reset to unknown", async () => {
    simulator.setBehaviour(adapter.name, { mode: "reset" });
    const message = sms(RECIPIENT);

    const error = await expectFailure(adapter, provider.send(message), message);

    expect(error.errorClass).toBe("unknown");
  });

  it("maps a refused connection to provider_unavailable", async () => {
    const unreachable = adapter.create({ apiUrl: await closedPortUrl() });
    const message = sms(RECIPIENT);

    const error = await expectFailure(adapter, unreachable.send(message), message);

    expect(error.errorClass).toBe("provider_unavailable");
  });

  it("sends non-GSM-7 text intact", async () => {
    const body = "Ваш код 482913 ✅";

    await provider.send(sms(RECIPIENT, body));

    expect(simulator.messages({ provider: adapter.name })[0]?.body).toBe(body);
  });
});

describe("vonage per-message status in HTTP 200", () => {
  const adapter = ADAPTERS.find((candidate) => candidate.name === "vonage") as AdapterCase;
  let simulator: Simulator;
  let provider: SmsProvider;

  beforeAll(async () => {
    simulator = await startSimulator();
    provider = adapter.create({ apiUrl: simulator.url });
  });

  afterAll(async () => {
    await simulator.close();
  });

  beforeEach(() => {
    simulator.reset();
  });

  it.each([
    ["1", "throttled"],
    ["29", "not_permitted"],
    ["5", "provider_unavailable"],
    ["4", "auth"],
  ] as const)("maps status %s to %s", async (code, errorClass) => {
    simulator.setBehaviour("vonage", { failure: { status: 200, code } });
    const message = sms(RECIPIENT);

    const error = await expectFailure(adapter, provider.send(message), message);

    expect(error.errorClass).toBe(errorClass);
    expect(error.providerHttpStatus).toBe(200);
    expect(error.providerCode).toBe(code);
  });
});
