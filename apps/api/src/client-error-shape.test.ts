import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestApi, type TestApi } from "./test-support/test-api.js";

let api: TestApi;
let port = 0;

beforeAll(async () => {
  api = await createTestApi();
  await api.app.listen({ host: "127.0.0.1", port: 0 });
  const address = api.app.server.address();
  port = typeof address === "object" && address !== null ? address.port : 0;
});

afterAll(async () => {
  await api.close();
});

/** Sends raw bytes and returns the response's status and body, or rejects after 5 s. */
function rawRequest(bytes: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within 5 s: ${JSON.stringify(text.slice(0, 200))}`));
    }, 5000);
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      text += chunk;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const [head = "", body = ""] = text.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), body });
    });
    socket.on("error", () => undefined);
    socket.end(bytes);
  });
}

// The README promises { "error": { "code": "OTP_ERR_...", ... } } for every error. Requests that node's HTTP
// parser rejects go to fastify's default clientErrorHandler, which sends {"error":"Bad Request",...} instead.
describe("requests rejected by the HTTP parser", () => {
  test.each([
    ["a 20 kB path", `GET /v1/otp/${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    [
      "a malformed Content-Length",
      "POST /v1/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
    ],
    ["a header line without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n"],
  ])("%s gets the error body", async (_name, bytes) => {
    const response = await rawRequest(bytes);

    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const body = JSON.parse(response.body) as { error?: { code?: unknown } };
    expect(String(body.error?.code)).toMatch(/^OTP_ERR_/);
  });
});
