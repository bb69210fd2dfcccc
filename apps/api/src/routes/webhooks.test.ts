import { wrongCode } from "@otpin/core/testing";
import { plivoV3Signature, vonageSignature } from "@otpin/simulator";
import twilio from "twilio";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApi, postJson, type TestApi } from "../test-support/test-api.js";

const PUBLIC = "https://otp.example.test";
const SECRETS = {
  TWILIO_AUTH_TOKEN: "twilio-webhook-token",
  PLIVO_AUTH_ID: "MAWEBHOOKTEST",
  PLIVO_AUTH_TOKEN: "plivo-webhook-token",
  VONAGE_SIGNATURE_SECRET: "vonage-signature-secret",
};

let api: TestApi | undefined;
const events: [string, string][] = [];

afterEach(async () => {
  await api?.close();
  api = undefined;
  events.length = 0;
});

async function start(env: Record<string, string> = {}): Promise<TestApi> {
  api = await createTestApi(
    { PUBLIC_BASE_URL: PUBLIC, ...SECRETS, ...env },
    { receiptEvents: { receipt: (provider, outcome) => events.push([provider, outcome]) } },
  );
  return api;
}

/** Creates a verification and records `messageId` as accepted by `provider`, as the worker does. */
async function submitted(test: TestApi, provider: string, messageId: string): Promise<string> {
  const created = await postJson(test.app, "/v1/otp", { to: "+14155550123", email: "user@example.com" });
  const id = created.json().id as string;
  await test.store.recordSubmission(id, provider, messageId);
  return id;
}

async function delivery(test: TestApi, id: string): Promise<unknown> {
  return (await test.app.inject({ method: "GET", url: `/v1/otp/${id}` })).json().delivery;
}

/** Posts a Twilio status callback signed for `signedUrl`, with no API key, as Twilio does. */
function postTwilio(test: TestApi, params: Record<string, string>, signedUrl: string, headers: Record<string, string> = {}) {
  return test.app.inject({
    method: "POST",
    url: "/v1/webhooks/twilio",
    headers: {
      authorization: "",
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(SECRETS.TWILIO_AUTH_TOKEN, signedUrl, params),
      ...headers,
    },
    payload: new URLSearchParams(params).toString(),
  });
}

const TWILIO_URL = `${PUBLIC}/v1/webhooks/twilio`;

describe("twilio status callbacks behind a proxy", () => {
  it("applies a receipt signed for the public URL that arrives on the internal address", async () => {
    const test = await start();
    const id = await submitted(test, "twilio", "SM01");

    const response = await postTwilio(test, { MessageSid: "SM01", MessageStatus: "delivered" }, TWILIO_URL);

    expect(response.statusCode).toBe(200);
    expect(await delivery(test, id)).toMatchObject({ status: "delivered" });
    expect(events).toEqual([["twilio", "delivered"]]);
  });

  it("answers 403 and changes nothing when MessageStatus was altered", async () => {
    const test = await start();
    const id = await submitted(test, "twilio", "SM02");
    const signature = twilio.getExpectedTwilioSignature(SECRETS.TWILIO_AUTH_TOKEN, TWILIO_URL, {
      MessageSid: "SM02",
      MessageStatus: "delivered",
    });

    const response = await postTwilio(
      test,
      { MessageSid: "SM02", MessageStatus: "undelivered", ErrorCode: "30034" },
      TWILIO_URL,
      { "x-twilio-signature": signature },
    );

    expect(response.statusCode).toBe(403);
    expect(await delivery(test, id)).toMatchObject({ status: "submitted" });
    expect(await test.queue.getJobCounts("waiting")).toEqual({ waiting: 1 });
    expect(events).toEqual([["twilio", "invalid_signature"]]);
  });

  it("answers 403 without a signature", async () => {
    const test = await start();
    const id = await submitted(test, "twilio", "SM03");

    const response = await postTwilio(test, { MessageSid: "SM03", MessageStatus: "delivered" }, TWILIO_URL, {
      "x-twilio-signature": "",
    });

    expect(response.statusCode).toBe(403);
    expect(await delivery(test, id)).toMatchObject({ status: "submitted" });
  });

  it("ignores Host and X-Forwarded-* when rebuilding the signed URL", async () => {
    const test = await start();
    const id = await submitted(test, "twilio", "SM04");
    const forged = "https://attacker.example/v1/webhooks/twilio";

    const response = await postTwilio(test, { MessageSid: "SM04", MessageStatus: "delivered" }, forged, {
      host: "attacker.example",
      "x-forwarded-host": "attacker.example",
      "x-forwarded-proto": "https",
    });

    expect(response.statusCode).toBe(403);
    expect(await delivery(test, id)).toMatchObject({ status: "submitted" });
  });

  it("answers 200 and changes nothing for an unknown message id", async () => {
    const test = await start();

    const response = await postTwilio(test, { MessageSid: "SMunknown", MessageStatus: "delivered" }, TWILIO_URL);

    expect(response.statusCode).toBe(200);
    expect(events).toEqual([["twilio", "unknown_message"]]);
  });

  it("answers 404 when PUBLIC_BASE_URL is unset", async () => {
    const test = await start({ PUBLIC_BASE_URL: "" });

    const response = await postTwilio(test, { MessageSid: "SM05", MessageStatus: "delivered" }, TWILIO_URL);

    expect(response.statusCode).toBe(404);
  });
});

describe("receipt state", () => {
  it("keeps the error code of an undelivered receipt and enqueues one re-send without twilio", async () => {
    const test = await start();
    const id = await submitted(test, "twilio", "SM10");
    const receipt = { MessageSid: "SM10", MessageStatus: "undelivered", ErrorCode: "30034" };

    const first = await postTwilio(test, receipt, TWILIO_URL);
    const second = await postTwilio(test, receipt, TWILIO_URL);

    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(await delivery(test, id)).toMatchObject({ status: "undelivered", errorCode: "30034" });
    const job = await test.queue.getJob(`${id}-redeliver`);
    expect(job?.data).toMatchObject({ otpId: id, redelivery: { exclude: ["twilio"], emailOnly: false } });
    expect(await test.queue.getJobCounts("waiting")).toEqual({ waiting: 2 });
    expect(events).toEqual([
      ["twilio", "undelivered"],
      ["twilio", "duplicate"],
    ]);
  });

  it("counts an interim sent receipt as ignored", async () => {
    const test = await start();
    const id = await submitted(test, "twilio", "SM12");

    const response = await postTwilio(test, { MessageSid: "SM12", MessageStatus: "sent" }, TWILIO_URL);

    expect(response.statusCode).toBe(200);
    expect(await delivery(test, id)).toMatchObject({ status: "submitted" });
    expect(events).toEqual([["twilio", "ignored"]]);
  });

  it("asks for the email fallback after a handset error", async () => {
    const test = await start();
    const id = await submitted(test, "twilio", "SM11");

    await postTwilio(test, { MessageSid: "SM11", MessageStatus: "undelivered", ErrorCode: "30003" }, TWILIO_URL);

    expect((await test.queue.getJob(`${id}-redeliver`))?.data).toMatchObject({
      redelivery: { exclude: ["twilio"], emailOnly: true },
    });
  });

  it("applies an early receipt once the submission is recorded", async () => {
    const test = await start();
    const created = await postJson(test.app, "/v1/otp", { to: "+14155550123" });
    const id = created.json().id as string;
    const receipt = { MessageSid: "SM20", MessageStatus: "undelivered", ErrorCode: "30034" };

    // The provider calls back before the worker's recordSubmission wrote the message id index.
    const early = await postTwilio(test, receipt, TWILIO_URL);
    const held = await test.redis.lrange(`${test.config.QUEUE_PREFIX}:msg-held:twilio:SM20`, 0, -1);

    expect(early.statusCode).toBe(200);
    expect(events).toEqual([["twilio", "unknown_message"]]);
    expect(await delivery(test, id)).toBeUndefined();
    expect(held).toHaveLength(1);
    expect(held[0]).not.toMatch(/\+?1415|5550123/);
    expect(await test.redis.pttl(`${test.config.QUEUE_PREFIX}:msg-held:twilio:SM20`)).toBeGreaterThan(0);

    const submission = await test.store.recordSubmission(id, "twilio", "SM20");

    expect(submission).toEqual({
      recorded: true,
      heldReceipts: [{ state: "undelivered", errorCode: "30034", policy: "route", result: "applied" }],
    });
    expect(await delivery(test, id)).toMatchObject({ status: "undelivered", errorCode: "30034" });
    expect(await test.redis.exists(`${test.config.QUEUE_PREFIX}:msg-held:twilio:SM20`)).toBe(0);
    // The same receipt repeated later is a duplicate, and delivered still wins.
    await postTwilio(test, receipt, TWILIO_URL);
    await postTwilio(test, { MessageSid: "SM20", MessageStatus: "delivered" }, TWILIO_URL);
    await postTwilio(test, receipt, TWILIO_URL);
    expect(await delivery(test, id)).toMatchObject({ status: "delivered" });
    expect(events.slice(1)).toEqual([
      ["twilio", "duplicate"],
      ["twilio", "delivered"],
      ["twilio", "ignored"],
    ]);
  });

  it("applies held receipts in arrival order with the usual rules", async () => {
    const test = await start();
    const created = await postJson(test.app, "/v1/otp", { to: "+14155550123" });
    const id = created.json().id as string;

    await postTwilio(test, { MessageSid: "SM21", MessageStatus: "sent" }, TWILIO_URL);
    await postTwilio(test, { MessageSid: "SM21", MessageStatus: "delivered" }, TWILIO_URL);
    await postTwilio(test, { MessageSid: "SM21", MessageStatus: "delivered" }, TWILIO_URL);
    await postTwilio(test, { MessageSid: "SM21", MessageStatus: "undelivered", ErrorCode: "30034" }, TWILIO_URL);
    const submission = await test.store.recordSubmission(id, "twilio", "SM21");

    // `sent` changes nothing and is not kept; delivered is final; the repeat is a duplicate.
    expect(submission.heldReceipts.map((receipt) => [receipt.state, receipt.result])).toEqual([
      ["delivered", "applied"],
      ["delivered", "duplicate"],
      ["undelivered", "ignored"],
    ]);
    expect(await delivery(test, id)).toMatchObject({ status: "delivered" });
    expect(await test.queue.getJob(`${id}-redeliver`)).toBeUndefined();
  });

  it("never moves delivered backwards", async () => {
    const test = await start();
    const id = await submitted(test, "twilio", "SM12");

    await postTwilio(test, { MessageSid: "SM12", MessageStatus: "delivered" }, TWILIO_URL);
    await postTwilio(test, { MessageSid: "SM12", MessageStatus: "sent" }, TWILIO_URL);
    await postTwilio(test, { MessageSid: "SM12", MessageStatus: "undelivered", ErrorCode: "30034" }, TWILIO_URL);

    expect(await delivery(test, id)).toMatchObject({ status: "delivered" });
    expect(await test.queue.getJob(`${id}-redeliver`)).toBeUndefined();
    expect(events).toEqual([
      ["twilio", "delivered"],
      ["twilio", "ignored"],
      ["twilio", "ignored"],
    ]);
  });
});

describe("receipts for a code that can no longer be verified", () => {
  const ROUTE_ERROR = { MessageStatus: "undelivered", ErrorCode: "30034" };

  it("re-sends nothing once a newer code replaced it", async () => {
    const test = await start({ INVALIDATE_PREVIOUS_CODES: "true" });
    const id = await submitted(test, "twilio", "SM40");
    // A second send to the same number supersedes the first code.
    expect((await postJson(test.app, "/v1/otp", { to: "+14155550123" })).statusCode).toBe(202);

    const response = await postTwilio(test, { MessageSid: "SM40", ...ROUTE_ERROR }, TWILIO_URL);

    expect(response.statusCode).toBe(200);
    expect(await delivery(test, id)).toMatchObject({ status: "undelivered", errorCode: "30034" });
    expect(await test.queue.getJob(`${id}-redeliver`)).toBeUndefined();
  });

  it("re-sends nothing once wrong codes locked it", async () => {
    const test = await start({ OTP_MAX_VERIFY_ATTEMPTS: "1" });
    const id = await submitted(test, "twilio", "SM41");
    const code = await test.codeOf(id);
    expect((await postJson(test.app, `/v1/otp/${id}/verify`, { code: wrongCode(code) })).json()).toMatchObject({ valid: false });
    expect((await postJson(test.app, `/v1/otp/${id}/verify`, { code })).statusCode).toBe(423);

    await postTwilio(test, { MessageSid: "SM41", ...ROUTE_ERROR }, TWILIO_URL);

    expect(await delivery(test, id)).toMatchObject({ status: "undelivered" });
    expect(await test.queue.getJob(`${id}-redeliver`)).toBeUndefined();
  });
});

describe("plivo receipts", () => {
  const params = { MessageUUID: "6f7c-1", Status: "delivered", To: "14155550123" };
  const signedFor = "https://otp.example.test:8443/v1/webhooks/plivo";

  function postPlivo(test: TestApi) {
    return test.app.inject({
      method: "POST",
      url: "/v1/webhooks/plivo",
      headers: {
        authorization: "",
        "content-type": "application/x-www-form-urlencoded",
        "x-plivo-signature-v3": plivoV3Signature(SECRETS.PLIVO_AUTH_TOKEN, signedFor, "98765", params),
        "x-plivo-signature-v3-nonce": "98765",
      },
      payload: new URLSearchParams(params).toString(),
    });
  }

  it("validates a receipt signed for port 8443 when PUBLIC_BASE_URL has that port", async () => {
    const test = await start({ PUBLIC_BASE_URL: "https://otp.example.test:8443" });
    const id = await submitted(test, "plivo", "6f7c-1");

    expect((await postPlivo(test)).statusCode).toBe(200);
    expect(await delivery(test, id)).toMatchObject({ status: "delivered" });
  });

  it("rejects the same receipt when PUBLIC_BASE_URL has no port", async () => {
    const test = await start();
    const id = await submitted(test, "plivo", "6f7c-1");

    expect((await postPlivo(test)).statusCode).toBe(403);
    expect(await delivery(test, id)).toMatchObject({ status: "submitted" });
  });
});

describe("vonage signed DLRs", () => {
  function signed(fields: Record<string, string>): Record<string, string> {
    const params = { ...fields, timestamp: "1700000000", nonce: "abc" };
    return { ...params, sig: vonageSignature(SECRETS.VONAGE_SIGNATURE_SECRET, "md5hash", params) };
  }

  it("applies a signed DLR sent by GET", async () => {
    const test = await start();
    const id = await submitted(test, "vonage", "0A01");
    const query = new URLSearchParams(signed({ messageId: "0A01", status: "failed", "err-code": "11", msisdn: "14155550123" }));

    const response = await test.app.inject({
      method: "GET",
      url: `/v1/webhooks/vonage?${query}`,
      headers: { authorization: "" },
    });

    expect(response.statusCode).toBe(200);
    expect(await delivery(test, id)).toMatchObject({ status: "undelivered", errorCode: "11" });
    expect((await test.queue.getJob(`${id}-redeliver`))?.data).toMatchObject({
      redelivery: { exclude: ["vonage"], emailOnly: false },
    });
  });

  it("applies a signed JSON DLR and rejects a tampered one", async () => {
    const test = await start();
    const id = await submitted(test, "vonage", "0A02");
    const body = signed({ messageId: "0A02", status: "delivered", "err-code": "0" });
    const post = (payload: Record<string, string>) =>
      test.app.inject({ method: "POST", url: "/v1/webhooks/vonage", headers: { authorization: "" }, payload });

    const tampered = await post({ ...body, status: "rejected" });
    const genuine = await post(body);

    expect([tampered.statusCode, genuine.statusCode]).toEqual([403, 200]);
    expect(await delivery(test, id)).toMatchObject({ status: "delivered" });
  });
});
