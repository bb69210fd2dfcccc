import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VonageProvider } from "./vonage.provider.js";

// A capturing server, because the simulator records the text but not the `type` field.
const requests: Record<string, unknown>[] = [];
let server: Server;
let provider: VonageProvider;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ "message-count": "1", messages: [{ to: "x", "message-id": "0A00000012345678", status: "0" }] }),
      );
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  provider = new VonageProvider({
    apiKey: "key",
    apiSecret: "secret",
    from: "otpin",
    apiUrl: `http://127.0.0.1:${port}`,
    timeoutMs: 1000,
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  requests.length = 0;
});

describe("VonageProvider request", () => {
  it("sends non-GSM-7 text as unicode", async () => {
    const result = await provider.send({ otpId: "otp_1", to: "+447700900123", body: "Код 482913" });

    expect(result).toEqual({ provider: "vonage", messageId: "0A00000012345678" });
    expect(requests[0]?.type).toBe("unicode");
    expect(requests[0]?.text).toBe("Код 482913");
  });

  it("sends GSM-7 text without a type", async () => {
    await provider.send({ otpId: "otp_2", to: "+447700900123", body: "Your code is 482913" });

    expect(requests[0]).not.toHaveProperty("type");
  });

  it("sends the number without the leading plus", async () => {
    await provider.send({ otpId: "otp_3", to: "+447700900123", body: "Your code is 482913" });

    expect(requests[0]?.to).toBe("447700900123");
    expect(requests[0]?.from).toBe("otpin");
  });
});
