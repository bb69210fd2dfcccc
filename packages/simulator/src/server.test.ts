import { describe, expect, it } from "vitest";
import { MessageWaitError } from "./message-store.js";
import { startSimulator } from "./server.js";
import { ACCEPTED_TO, basicAuth, plivoSend, twilioSend, vonageSend } from "./test-support/requests.js";

describe("startSimulator", () => {
  it("listens on 127.0.0.1 with an ephemeral port by default", async () => {
    const simulator = await startSimulator();
    try {
      expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await simulator.close();
    }
  });

  it("accepts credentials passed in options", async () => {
    const simulator = await startSimulator({ credentials: { vonage: { apiKey: "otherkey", apiSecret: "other-secret" } } });
    try {
      const custom = await vonageSend(
        simulator.url,
        { from: "OTPIN", to: "14155550123", text: "hi" },
        basicAuth("otherkey", "other-secret"),
      );
      const defaults = await vonageSend(simulator.url, { from: "OTPIN", to: "14155550123", text: "hi" });
      const customBody = (await custom.json()) as { messages: Array<{ status: string }> };
      const defaultBody = (await defaults.json()) as { messages: Array<{ status: string }> };

      expect(customBody.messages[0]?.status).toBe("0");
      expect(defaultBody.messages[0]?.status).toBe("4");
    } finally {
      await simulator.close();
    }
  });

  it("applies behaviours passed in options", async () => {
    const simulator = await startSimulator({ behaviour: { plivo: { failure: { status: 503 } } } });
    try {
      const response = await plivoSend(simulator.url, { src: "+15005550006", dst: ACCEPTED_TO, text: "hi" });

      expect(response.status).toBe(503);
    } finally {
      await simulator.close();
    }
  });

  it("clears messages, counters and behaviours on reset", async () => {
    const simulator = await startSimulator();
    try {
      simulator.setBehaviour("twilio", { failure: { status: 503 }, failNext: 1 });
      await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "hi" });
      await plivoSend(simulator.url, { src: "+15005550006", dst: ACCEPTED_TO, text: "hi" });
      simulator.reset();
      const afterReset = await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "hi" });

      expect(afterReset.status).toBe(201);
      expect(simulator.requestCount()).toBe(1);
      expect(simulator.requestCount("plivo")).toBe(0);
      expect(simulator.messages()).toHaveLength(1);
    } finally {
      await simulator.close();
    }
  });

  it("ends hanging connections on close", async () => {
    const simulator = await startSimulator({ behaviour: { twilio: { mode: "hang" } } });
    const request = twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "hi" });
    await waitForRequestCount(() => simulator.requestCount("twilio"), 1);
    await simulator.close();

    await expect(request).rejects.toThrow(TypeError);
  });
  it("ends requests waiting out latency on close", async () => {
    const simulator = await startSimulator({ behaviour: { plivo: { latencyMs: 60_000 } } });
    const request = plivoSend(simulator.url, { src: "+15005550006", dst: ACCEPTED_TO, text: "hi" });
    await waitForRequestCount(() => simulator.requestCount("plivo"), 1);
    await simulator.close();

    await expect(request).rejects.toThrow(TypeError);
    expect(simulator.messages()).toEqual([]);
  });

  it("allows close to be called twice", async () => {
    const simulator = await startSimulator();
    await simulator.close();

    await expect(simulator.close()).resolves.toBeUndefined();
  });
});

describe("waitForMessage", () => {
  it("resolves with a message that already arrived", async () => {
    const simulator = await startSimulator();
    try {
      await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "early" });
      const message = await simulator.waitForMessage({ to: ACCEPTED_TO }, 100);

      expect(message.body).toBe("early");
    } finally {
      await simulator.close();
    }
  });

  it("resolves with a message that arrives later", async () => {
    const simulator = await startSimulator();
    try {
      const waiting = simulator.waitForMessage({ to: "14155550123", provider: "vonage" }, 2_000);
      await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "wrong provider" });
      await vonageSend(simulator.url, { from: "OTPIN", to: "14155550123", text: "late" });
      const message = await waiting;

      expect(message.provider).toBe("vonage");
      expect(message.body).toBe("late");
    } finally {
      await simulator.close();
    }
  });

  it("rejects when no message arrives in time", async () => {
    const simulator = await startSimulator();
    try {
      await expect(simulator.waitForMessage({ to: ACCEPTED_TO }, 50)).rejects.toThrow(MessageWaitError);
    } finally {
      await simulator.close();
    }
  });

  it("rejects pending waits on close", async () => {
    const simulator = await startSimulator();
    const waiting = simulator.waitForMessage({ to: ACCEPTED_TO }, 5_000);
    await simulator.close();

    await expect(waiting).rejects.toThrow("simulator closed before a matching message arrived");
  });
});

/** Polls a counter every 10 ms, for at most 1 s, until it reaches `expected`. */
async function waitForRequestCount(read: () => number, expected: number): Promise<void> {
  for (let attempt = 0; attempt < 100 && read() < expected; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(read()).toBe(expected);
}
