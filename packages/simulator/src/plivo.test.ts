import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SIMULATOR_CREDENTIALS } from "./credentials.js";
import { MAGIC_RECIPIENTS } from "./magic-recipients.js";
import { type Simulator, startSimulator } from "./server.js";
import { ACCEPTED_TO, basicAuth, plivoSend } from "./test-support/requests.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator();
});
beforeEach(() => simulator.reset());
afterAll(() => simulator.close());

describe("plivo message api", () => {
  it("accepts a message and answers 202 with a message uuid", async () => {
    const response = await plivoSend(simulator.url, {
      src: "+15005550006",
      dst: "14155550123",
      text: "Your code is 123456",
      type: "sms",
    });
    const body = (await response.json()) as { api_id: string; message: string; message_uuid: string[] };

    expect(response.status).toBe(202);
    expect(body.api_id).toMatch(UUID);
    expect(body.message).toBe("message(s) queued");
    expect(body.message_uuid).toHaveLength(1);
    expect(body.message_uuid[0]).toMatch(UUID);
    expect(simulator.messages()).toEqual([
      expect.objectContaining({
        id: body.message_uuid[0],
        provider: "plivo",
        to: ACCEPTED_TO,
        from: "+15005550006",
        body: "Your code is 123456",
      }),
    ]);
  });

  it("accepts several destinations separated by <", async () => {
    const response = await plivoSend(simulator.url, { src: "+15005550006", dst: "+14155550123<+14155550124", text: "hi" });
    const body = (await response.json()) as { message_uuid: string[] };

    expect(response.status).toBe(202);
    expect(body.message_uuid).toHaveLength(2);
    expect(simulator.messages().map((message) => message.to)).toEqual(["+14155550123", "+14155550124"]);
  });

  it("rejects a wrong auth token with 401", async () => {
    const { authId } = SIMULATOR_CREDENTIALS.plivo;
    const response = await plivoSend(
      simulator.url,
      { src: "+15005550006", dst: ACCEPTED_TO, text: "hi" },
      basicAuth(authId, "wrong"),
    );
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(401);
    expect(typeof body.error).toBe("string");
    expect(body.api_id).toMatch(UUID);
    expect(simulator.messages()).toEqual([]);
  });

  it.each(Object.entries(MAGIC_RECIPIENTS))("answers magic recipient %s with its error", async (to, magic) => {
    const response = await plivoSend(simulator.url, { src: "+15005550006", dst: to.slice(1), text: "hi" });
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(magic.plivo.status);
    expect(body.error).toBe(magic.plivo.error);
    expect(simulator.messages()).toEqual([]);
  });

  it.each(["src", "dst", "text"])("rejects a request without %s", async (field) => {
    const fields: Record<string, string> = { src: "+15005550006", dst: ACCEPTED_TO, text: "hi" };
    delete fields[field];
    const response = await plivoSend(simulator.url, fields);
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(400);
    expect(body.error).toBe(`${field} is a required parameter`);
  });

  it("rejects malformed JSON with 400", async () => {
    const { authId, authToken } = SIMULATOR_CREDENTIALS.plivo;
    const response = await fetch(`${simulator.url}/v1/Account/${authId}/Message/`, {
      method: "POST",
      headers: { authorization: basicAuth(authId, authToken), "content-type": "application/json" },
      body: "{not json",
    });
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(400);
    expect(body.error).toBe("request body is not valid JSON");
  });

  it("rejects a body over 64 KiB with 413", async () => {
    const response = await plivoSend(simulator.url, { src: "+15005550006", dst: ACCEPTED_TO, text: "x".repeat(70_000) });

    expect(response.status).toBe(413);
    expect(simulator.messages()).toEqual([]);
  });
});
