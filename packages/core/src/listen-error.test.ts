import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { describeListenError } from "./listen-error.js";

async function listenError(host: string, port: number): Promise<unknown> {
  const server = createServer();
  server.listen(port, host);
  const [error] = (await once(server, "error")) as [unknown];
  server.close();
  return error;
}

describe("describeListenError", () => {
  it("names the port variable when the port is taken", async () => {
    const busy = createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    const port = (busy.address() as AddressInfo).port;
    try {
      const error = await listenError("127.0.0.1", port);
      const message = describeListenError(error, { hostVariable: "HOST", portVariable: "PORT", host: "127.0.0.1", port });
      expect(message).toContain(`PORT=${port}`);
      expect(message).toContain("already in use");
    } finally {
      busy.close();
    }
  });

  it("names the host variable for an unknown host", async () => {
    const error = await listenError("no-such-host.invalid", 0);
    const message = describeListenError(error, {
      hostVariable: "HOST",
      portVariable: "PORT",
      host: "no-such-host.invalid",
      port: 0,
    });
    expect(message).toContain("HOST=no-such-host.invalid");
  });

  it("leaves other errors alone", () => {
    expect(
      describeListenError(new Error("boom"), { hostVariable: "HOST", portVariable: "PORT", host: "h", port: 1 }),
    ).toBeUndefined();
  });
});
