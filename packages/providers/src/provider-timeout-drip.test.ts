import { createServer, type Server } from "node:http";
import { DeliveryError } from "@otpin/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PlivoProvider } from "./plivo.provider.js";
import { TwilioProvider } from "./twilio.provider.js";
import type { SmsProvider } from "./types.js";
import { VonageProvider } from "./vonage.provider.js";

const TIMEOUT_MS = 500;
const DRIP_FOR_MS = 4000;

let server: Server;
let url = "";
/** Resolves with the time at which the connection of the latest request closed. */
let requestClosed: Promise<number> = Promise.resolve(0);

beforeAll(async () => {
  // The server sends headers at once, then one space every 200 ms and the body after 4 s. The socket is
  // never idle, so only a timeout on the whole request ends the send early. The body is a success
  // response for all three providers, so a send that outlives the drip resolves and fails the test.
  server = createServer((request, response) => {
    request.resume();
    requestClosed = new Promise((resolve) => response.on("close", () => resolve(Date.now())));
    response.writeHead(201, { "content-type": "application/json" });
    response.write(" ");
    const drip = setInterval(() => response.write(" "), 200);
    const finish = setTimeout(() => {
      clearInterval(drip);
      response.end(
        JSON.stringify({
          sid: "SM00000000000000000000000000000000",
          message_uuid: ["u-1"],
          api_id: "a",
          "message-count": "1",
          messages: [{ to: "15005550006", "message-id": "0A00000012345678", status: "0" }],
        }),
      );
    }, DRIP_FOR_MS);
    response.on("close", () => {
      clearInterval(drip);
      clearTimeout(finish);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

// The README defines class timeout as no response within PROVIDER_TIMEOUT_MS. The Twilio and Plivo SDKs use axios,
// whose `timeout` becomes an idle-socket timeout once connected, so a slow trickle of bytes is never cut off by it.
// The Vonage SDK uses node-fetch with its own AbortController timer, which the trickle must not outlast either.
// The last column is true when the adapter aborts the request itself, which closes the connection. The Plivo SDK accepts no AbortSignal,
// so its adapter only stops waiting and the request stays open until the server ends it.
describe("PROVIDER_TIMEOUT_MS bounds the whole request", () => {
  test.each([
    [
      "twilio",
      () =>
        new TwilioProvider({
          accountSid: "AC0123456789abcdef0123456789abcdef",
          authToken: "token",
          from: "+15005550006",
          apiUrl: url,
          timeoutMs: TIMEOUT_MS,
        }),
      true,
    ],
    [
      "plivo",
      () =>
        new PlivoProvider({
          authId: "MAOTPINSIMULATOR0001",
          authToken: "token",
          from: "+15005550006",
          apiUrl: `${url}/v1/Account/MAOTPINSIMULATOR0001`,
          timeoutMs: TIMEOUT_MS,
        }),
      false,
    ],
    [
      "vonage",
      () =>
        new VonageProvider({
          apiKey: "key",
          apiSecret: "secret",
          from: "otpin",
          apiUrl: url,
          timeoutMs: TIMEOUT_MS,
        }),
      true,
    ],
  ] as const)("%s times out on a trickle", { timeout: 10_000 }, async (_name, create, abortsRequest) => {
    const provider: SmsProvider = create();
    const started = Date.now();
    const outcome = await provider.send({ otpId: "otp_000000000000000000000000", to: "+15005550006", body: "x" }).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const elapsedMs = Date.now() - started;

    expect(outcome.ok, `settled after ${elapsedMs} ms`).toBe(false);
    // Ending before the drip does is what matters; how close to TIMEOUT_MS depends on the machine's load.
    expect(elapsedMs).toBeLessThan(DRIP_FOR_MS);
    if (!outcome.ok) {
      expect(outcome.error).toBeInstanceOf(DeliveryError);
      expect((outcome.error as DeliveryError).errorClass).toBe("timeout");
    }
    if (abortsRequest) {
      const closedAfterMs = (await requestClosed) - started;
      expect(closedAfterMs, "connection closed before the drip ended").toBeLessThan(DRIP_FOR_MS);
    }
  });
});
