import { SIMULATOR_CREDENTIALS } from "@otpin/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpSink, startSmtpSink } from "./test-support/smtp-sink.js";
import { codeFrom, TestStack } from "./test-support/stack.js";

const PUBLIC = "https://otp.example.test";
const RECEIPT_SECRETS = {
  PUBLIC_BASE_URL: PUBLIC,
  TWILIO_AUTH_TOKEN: SIMULATOR_CREDENTIALS.twilio.authToken,
  PLIVO_AUTH_TOKEN: SIMULATOR_CREDENTIALS.plivo.authToken,
  VONAGE_SIGNATURE_SECRET: SIMULATOR_CREDENTIALS.vonage.signatureSecret,
};

type View = Awaited<ReturnType<TestStack["view"]>> & { delivery?: { status: string; errorCode?: string } };

/** Starts a stack whose API listens on 127.0.0.1 behind a simulated TLS proxy at PUBLIC. */
async function receiptStack(providers: string, smtp: SmtpSink, events: [string, string][]): Promise<TestStack> {
  const stack = new TestStack({
    apiEnv: RECEIPT_SECRETS,
    workerEnv: { PUBLIC_BASE_URL: PUBLIC, SMS_PROVIDERS: providers, SMTP_URL: smtp.url, EMAIL_FROM: "otp@example.test" },
    apiOptions: { receiptEvents: { receipt: (provider, outcome) => events.push([provider, outcome]) } },
  });
  await stack.start();
  const internal = await stack.api.listen({ host: "127.0.0.1", port: 0 });
  // The simulator signs for PUBLIC and delivers to the internal address, as a TLS-terminating proxy forwards.
  stack.simulator.setReceiptOptions({ delayMs: 150, redirects: { [PUBLIC]: internal } });
  return stack;
}

async function waitForDelivery(stack: TestStack, id: string, accept: (view: View) => boolean, timeoutMs = 8000): Promise<View> {
  const deadline = Date.now() + timeoutMs;
  let view = (await stack.view(id)) as View;
  while (!accept(view)) {
    if (Date.now() > deadline) throw new Error(`delivery of ${id} stayed ${JSON.stringify(view.delivery)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    view = (await stack.view(id)) as View;
  }
  return view;
}

/**
 * Waits until the API has replied to the simulator's `status` receipt from `provider`. The state is
 * written before the API runs the policy and reports the outcome, so a test that reads `events`
 * must wait for the answer, not for the state.
 */
async function waitForReceiptAnswer(stack: TestStack, provider: string, status: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const answered = () =>
    stack.simulator
      .receipts()
      .some((receipt) => receipt.provider === provider && receipt.status === status && receipt.httpStatus !== undefined);
  while (!answered()) {
    if (Date.now() > deadline) throw new Error(`the ${provider} ${status} receipt was not answered in time`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("delivery receipts end to end", () => {
  const events: [string, string][] = [];
  let smtp: SmtpSink;
  let stack: TestStack;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    stack = await receiptStack("twilio,plivo", smtp, events);
  });
  afterAll(async () => {
    await stack?.close();
    await smtp?.close();
  });

  it("keeps twilio's 30034, then re-sends the same code once through plivo", async () => {
    const sent = await stack.send({ to: "+15005550010" });
    const id = sent.body.id as string;
    const first = await stack.simulator.waitForMessage({ provider: "twilio", to: "+15005550010" });
    // Holds the follow-up job, so the undelivered state can be read before the re-send replaces it.
    await stack.worker.worker.pause();

    const undelivered = await waitForDelivery(stack, id, (view) => view.delivery?.status === "undelivered");
    expect(undelivered.delivery).toMatchObject({ status: "undelivered", errorCode: "30034" });
    expect(undelivered.status).toBe("sent");

    stack.worker.worker.resume();
    const resent = await stack.simulator.waitForMessage({ provider: "plivo", to: "+15005550010" });
    expect(codeFrom(resent.body)).toBe(codeFrom(first.body));
    // Plivo reports the same route error; the re-send still happens only once.
    await waitForDelivery(stack, id, (view) => view.delivery?.errorCode === "100");
    await waitForReceiptAnswer(stack, "plivo", "undelivered");
    expect(stack.simulator.messages({ to: "+15005550010" })).toHaveLength(2);
    expect(events).toEqual(
      expect.arrayContaining([
        ["twilio", "undelivered"],
        ["plivo", "undelivered"],
      ]),
    );
    expect((await stack.verify(id, codeFrom(first.body))).body).toMatchObject({ valid: true });
  });

  it("sends the same code by email after twilio's handset error 30003", async () => {
    const sent = await stack.send({ to: "+15005550011", email: "user@example.test" });
    const id = sent.body.id as string;
    const sms = await stack.simulator.waitForMessage({ provider: "twilio", to: "+15005550011" });

    await waitForDelivery(stack, id, (view) => view.delivery?.errorCode === "30003");
    const deadline = Date.now() + 8000;
    while (!smtp.received.some((mail) => mail.to.includes("user@example.test")) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    const mail = smtp.received.find((entry) => entry.to.includes("user@example.test"));
    expect(mail).toBeDefined();
    expect(mail?.raw).toContain(codeFrom(sms.body));
    expect(stack.simulator.messages({ provider: "plivo", to: "+15005550011" })).toEqual([]);
  });

  it("ignores a late sent or undelivered after delivered, and a duplicate delivered", async () => {
    const sent = await stack.send({ to: "+14155550123" });
    const id = sent.body.id as string;
    const message = await stack.simulator.waitForMessage({ provider: "twilio", to: "+14155550123" });
    const delivered = await waitForDelivery(stack, id, (view) => view.delivery?.status === "delivered");
    events.length = 0;

    for (const [status, errorCode] of [["sent"], ["undelivered", "30034"], ["delivered"]] as const) {
      const receipt = await stack.simulator.sendReceipt({ provider: "twilio", messageId: message.id, status, errorCode });
      expect(receipt.httpStatus).toBe(200);
    }

    expect(((await stack.view(id)) as View).delivery).toEqual(delivered.delivery);
    expect(events).toEqual([
      ["twilio", "ignored"],
      ["twilio", "ignored"],
      ["twilio", "duplicate"],
    ]);
    expect(stack.simulator.messages({ to: "+14155550123" })).toHaveLength(1);
  });
});

describe("vonage signed DLR end to end", () => {
  const events: [string, string][] = [];
  let smtp: SmtpSink;
  let stack: TestStack;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    stack = await receiptStack("vonage,twilio", smtp, events);
  });
  afterAll(async () => {
    await stack?.close();
    await smtp?.close();
  });

  it("applies a signed GET DLR and re-sends through twilio after vonage's unroutable error", async () => {
    const sent = await stack.send({ to: "+15005550010" });
    const id = sent.body.id as string;
    const first = await stack.simulator.waitForMessage({ provider: "vonage", to: "+15005550010" });

    const resent = await stack.simulator.waitForMessage({ provider: "twilio", to: "+15005550010" }, 8000);

    expect(codeFrom(resent.body)).toBe(codeFrom(first.body));
    await waitForReceiptAnswer(stack, "vonage", "failed");
    expect(events[0]).toEqual(["vonage", "undelivered"]);
    expect(stack.simulator.receipts().find((receipt) => receipt.provider === "vonage")).toMatchObject({
      status: "failed",
      errorCode: "11",
      httpStatus: 200,
    });
    await waitForDelivery(stack, id, (view) => view.delivery?.errorCode === "30034");
  });
});
