import { describe, expect, it } from "vitest";
import { InvalidBehaviourError } from "./behaviour-schema.js";
import { startFromEnvironment } from "./environment.js";
import { ACCEPTED_TO, twilioSend } from "./test-support/requests.js";

describe("startFromEnvironment", () => {
  it("applies SIMULATOR_SCRIPT at start", async () => {
    const simulator = await startFromEnvironment({
      SIMULATOR_PORT: "0",
      SIMULATOR_SCRIPT: '{"twilio":{"failure":{"status":503}}}',
    });
    try {
      const response = await twilioSend(simulator.url, { To: ACCEPTED_TO, From: "+15005550006", Body: "hi" });

      expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(response.status).toBe(503);
    } finally {
      await simulator.close();
    }
  });

  it("rejects a SIMULATOR_PORT that is not a port", async () => {
    await expect(startFromEnvironment({ SIMULATOR_PORT: "http" })).rejects.toThrow(
      'SIMULATOR_PORT "http" is not a port number from 0 to 65535',
    );
  });

  it("rejects an invalid SIMULATOR_SCRIPT", async () => {
    await expect(startFromEnvironment({ SIMULATOR_PORT: "0", SIMULATOR_SCRIPT: '{"twilio":{"mode":"slow"}}' })).rejects.toThrow(
      InvalidBehaviourError,
    );
  });

  it("names SIMULATOR_PORT when the port is taken", async () => {
    const first = await startFromEnvironment({ SIMULATOR_PORT: "0" });
    try {
      const port = new URL(first.url).port;
      await expect(startFromEnvironment({ SIMULATOR_PORT: port })).rejects.toThrow(`SIMULATOR_PORT=${port} is already in use`);
    } finally {
      await first.close();
    }
  });
});
