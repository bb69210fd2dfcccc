import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "./server.js";
import { ACCEPTED_TO, plivoSend, twilioSend, vonageSend } from "./test-support/requests.js";
import type { SimulatedMessage } from "./types.js";

let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator();
});
beforeEach(() => simulator.reset());
afterAll(() => simulator.close());

function putBehaviour(provider: string, body: unknown): Promise<Response> {
  return fetch(`${simulator.url}/_control/${provider}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("inspection routes", () => {
  it("answers healthz with 200", async () => {
    const response = await fetch(`${simulator.url}/healthz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("lists messages filtered by recipient and provider", async () => {
    await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "one" });
    await plivoSend(simulator.url, { src: "+15005550006", dst: ACCEPTED_TO, text: "two" });
    await vonageSend(simulator.url, { from: "OTPIN", to: "14155550999", text: "three" });

    const byRecipient = await fetch(`${simulator.url}/messages?to=${encodeURIComponent(ACCEPTED_TO)}`);
    const byProvider = await fetch(`${simulator.url}/messages?to=${encodeURIComponent(ACCEPTED_TO)}&provider=plivo`);
    const recipientBodies = ((await byRecipient.json()) as { messages: SimulatedMessage[] }).messages.map(
      (message) => message.body,
    );
    const providerBodies = ((await byProvider.json()) as { messages: SimulatedMessage[] }).messages.map(
      (message) => message.body,
    );

    expect(recipientBodies).toEqual(["one", "two"]);
    expect(providerBodies).toEqual(["two"]);
  });

  it("rejects an unknown provider filter with 400", async () => {
    const response = await fetch(`${simulator.url}/messages?provider=sinch`);

    expect(response.status).toBe(400);
  });

  it("clears messages on DELETE /messages", async () => {
    await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "one" });
    const response = await fetch(`${simulator.url}/messages`, { method: "DELETE" });

    expect(response.status).toBe(204);
    expect(simulator.messages()).toEqual([]);
  });

  it("answers unknown routes with 404 JSON", async () => {
    const response = await fetch(`${simulator.url}/v2/unknown`);
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(404);
    expect(body.error).toBe("no route for GET /v2/unknown");
  });
});

describe("control routes", () => {
  it("sets a behaviour with PUT and shows it with GET", async () => {
    const put = await putBehaviour("twilio", { failure: { status: 503 }, failNext: 1 });
    const failed = await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "hi" });
    const state = (await (await fetch(`${simulator.url}/_control`)).json()) as {
      behaviours: Record<string, unknown>;
      requestCounts: Record<string, number>;
    };

    expect(put.status).toBe(204);
    expect(failed.status).toBe(503);
    expect(state.behaviours.twilio).toEqual({ failure: { status: 503 }, failNext: 0 });
    expect(state.behaviours.plivo).toEqual({});
    expect(state.requestCounts).toEqual({ twilio: 1, plivo: 0, vonage: 0 });
  });

  it("resets behaviours on DELETE /_control", async () => {
    await putBehaviour("plivo", { failure: { status: 500 } });
    const response = await fetch(`${simulator.url}/_control`, { method: "DELETE" });
    const send = await plivoSend(simulator.url, { src: "+15005550006", dst: ACCEPTED_TO, text: "hi" });

    expect(response.status).toBe(204);
    expect(send.status).toBe(202);
  });

  it("rejects an invalid behaviour with 400", async () => {
    const response = await putBehaviour("vonage", { errorRate: 2 });
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(400);
    expect(body.error).toBe("behaviour.errorRate must be a number from 0 to 1");
  });

  it("rejects an unknown provider with 404", async () => {
    const response = await putBehaviour("sinch", {});

    expect(response.status).toBe(404);
  });

  it("answers POST on /_control with 405", async () => {
    const response = await fetch(`${simulator.url}/_control`, { method: "POST" });

    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, DELETE");
  });
});

describe("inbox page", () => {
  it("lists messages newest first with HTML escaped", async () => {
    await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "first" });
    await plivoSend(simulator.url, { src: "+15005550006", dst: ACCEPTED_TO, text: `<script>alert("x")</script> & 'more'` });
    const response = await fetch(`${simulator.url}/`);
    const html = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html).toContain(`<meta http-equiv="refresh" content="2">`);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;more&#39;");
    expect(html.indexOf("&lt;script&gt;")).toBeLessThan(html.indexOf("first"));
  });
});
