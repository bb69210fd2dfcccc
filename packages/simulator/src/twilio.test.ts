import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SIMULATOR_CREDENTIALS } from "./credentials.js";
import { MAGIC_RECIPIENTS } from "./magic-recipients.js";
import { type Simulator, startSimulator } from "./server.js";
import { ACCEPTED_TO, basicAuth, twilioSend } from "./test-support/requests.js";

const { accountSid } = SIMULATOR_CREDENTIALS.twilio;
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator();
});
beforeEach(() => simulator.reset());
afterAll(() => simulator.close());

describe("twilio messages api", () => {
  it("accepts a message and answers 201 with a message resource", async () => {
    const response = await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "Your code is 123456" });
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(201);
    expect(body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(body.status).toBe("queued");
    expect(body.to).toBe(ACCEPTED_TO);
    expect(body.from).toBe("+15005550006");
    expect(body.body).toBe("Your code is 123456");
    expect(body.account_sid).toBe(accountSid);
    expect(body.num_segments).toBe("1");
    expect(body.date_created).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(simulator.messages()).toEqual([
      expect.objectContaining({
        id: body.sid,
        provider: "twilio",
        to: ACCEPTED_TO,
        from: "+15005550006",
        body: "Your code is 123456",
      }),
    ]);
  });

  it("rejects a wrong auth token with 401 code 20003", async () => {
    const response = await twilioSend(
      simulator.url,
      { To: ACCEPTED_TO, From: "+15005550006", Body: "hi" },
      basicAuth(accountSid, "wrong"),
    );
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(401);
    expect(body.code).toBe(20003);
    expect(body.status).toBe(401);
    expect(simulator.messages()).toEqual([]);
    expect(simulator.requestCount("twilio")).toBe(1);
  });

  it("rejects a request without credentials", async () => {
    const response = await fetch(`${simulator.url}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "To=%2B14155550123&From=%2B15005550006&Body=hi",
    });

    expect(response.status).toBe(401);
  });

  it("rejects another account sid in the path", async () => {
    const response = await fetch(`${simulator.url}/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json`, {
      method: "POST",
      headers: {
        authorization: basicAuth(accountSid, SIMULATOR_CREDENTIALS.twilio.authToken),
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "To=%2B14155550123&From=%2B15005550006&Body=hi",
    });

    expect(response.status).toBe(401);
  });

  it.each(Object.entries(MAGIC_RECIPIENTS))("answers magic recipient %s with its error", async (to, magic) => {
    const response = await twilioSend(simulator.url, { To: to, From: "+15005550006", Body: "hi" });
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(magic.twilio.status);
    expect(body.code).toBe(magic.twilio.code);
    expect(body.message).toBe(magic.twilio.message);
    expect(body.more_info).toBe(`https://www.twilio.com/docs/errors/${magic.twilio.code}`);
    expect(simulator.messages()).toEqual([]);
  });

  it("rejects a number that is not E.164 with code 21211", async () => {
    const response = await twilioSend(simulator.url, { To: "4155550123", From: "+15005550006", Body: "hi" });
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(400);
    expect(body.code).toBe(21211);
  });

  it.each([
    ["To", 21604],
    ["From", 21603],
    ["Body", 21602],
  ])("rejects a request without %s", async (field, code) => {
    const fields: Record<string, string> = { To: ACCEPTED_TO, From: "+15005550006", Body: "hi" };
    delete fields[field];
    const response = await twilioSend(simulator.url, fields);
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(400);
    expect(body.code).toBe(code);
  });

  it("answers GET on the messages path with 405", async () => {
    const response = await fetch(`${simulator.url}/2010-04-01/Accounts/${accountSid}/Messages.json`);

    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });
});
