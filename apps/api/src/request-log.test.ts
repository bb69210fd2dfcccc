import { Writable } from "node:stream";
import { createLogger, loadApiConfig } from "@otpin/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildApi } from "./app.js";
import { createTestApi, postJson, TEST_API_KEY_ENV, TEST_SECRET, type TestApi, withTestApiKey } from "./test-support/test-api.js";

interface LogLine {
  level: number;
  msg: string;
  statusCode?: number;
  route?: string;
  [key: string]: unknown;
}

const INFO = 30;
const ERROR = 50;

/** Creates a pino destination that keeps every line in memory. */
function captureLines(): { stream: Writable; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const text of String(chunk).split("\n")) if (text !== "") lines.push(JSON.parse(text) as LogLine);
      callback();
    },
  });
  return { stream, lines };
}

describe("request logging", () => {
  let api: TestApi;
  const capture = captureLines();

  beforeAll(async () => {
    api = await createTestApi();
    await api.app.close();
    // Rebuild on the same prefix with a logger that writes to memory.
    api.app = withTestApiKey(
      await buildApi({ config: api.config, logger: createLogger("otpin-api-test", "info", capture.stream) }),
    );
  });

  afterAll(async () => {
    await api.close();
  });

  test("logs one line per request without bodies, numbers or codes", async () => {
    const created = await postJson(api.app, "/v1/otp", { to: "+447911123456", email: "jo@example.com" });
    const { id } = created.json() as { id: string };
    const code = await api.codeOf(id);
    await postJson(api.app, `/v1/otp/${id}/verify`, { code });
    const rejected = await postJson(api.app, "/v1/otp", { to: "+44 7911 12345x" });

    expect(created.statusCode).toBe(202);
    expect(rejected.statusCode).toBe(400);
    const text = JSON.stringify(capture.lines);
    expect(text).not.toContain("7911123456");
    expect(text).not.toContain("7911 12345");
    expect(text).not.toContain("jo@example.com");
    expect(text).not.toContain(`"${code}"`);
    const requests = capture.lines.filter((line) => line.msg === "request completed");
    expect(requests.map((line) => [line.route, line.statusCode, line.level])).toEqual([
      ["/v1/otp", 202, INFO],
      ["/v1/otp/:id/verify", 200, INFO],
      ["/v1/otp", 400, INFO],
    ]);
  });

  test("logs 5xx responses at error", async () => {
    const lines = captureLines();
    const config = loadApiConfig({
      ...TEST_API_KEY_ENV,
      OTP_SECRET: TEST_SECRET,
      REDIS_URL: "redis://127.0.0.1:1",
      REDIS_COMMAND_TIMEOUT_MS: "100",
    });
    const app = withTestApiKey(await buildApi({ config, logger: createLogger("otpin-api-test", "info", lines.stream) }));
    try {
      const response = await postJson(app, "/v1/otp", { to: "+447911123456" });

      expect(response.statusCode).toBe(503);
      const completed = lines.lines.filter((line) => line.msg === "request completed");
      expect(completed.map((line) => [line.statusCode, line.level])).toEqual([[503, ERROR]]);
      expect(JSON.stringify(lines.lines)).not.toContain("7911123456");
    } finally {
      await app.close();
    }
  });
});
