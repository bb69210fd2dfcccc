import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBody, RequestBodyError, readBody } from "./body.js";

describe("parseBody", () => {
  it("collects repeated form fields into an array", () => {
    const fields = parseBody("application/x-www-form-urlencoded; charset=utf-8", Buffer.from("To=%2B1&MediaUrl=a&MediaUrl=b"));

    expect(fields).toEqual({ To: "+1", MediaUrl: ["a", "b"] });
  });

  it("parses a JSON object", () => {
    expect(parseBody("application/json", Buffer.from('{"dst":"1"}'))).toEqual({ dst: "1" });
  });

  it("rejects a JSON array", () => {
    expect(() => parseBody("application/json", Buffer.from("[1]"))).toThrow("request body must be a JSON object");
  });

  it("rejects other content types with 415", () => {
    const parse = (): unknown => parseBody("text/plain", Buffer.from("hello"));

    expect(parse).toThrow(RequestBodyError);
    expect(parse).toThrow('content type "text/plain" is not supported');
  });

  it("parses an empty body to no fields", () => {
    expect(parseBody(undefined, Buffer.alloc(0))).toEqual({});
  });
});

describe("readBody", () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      readBody(request, 1024).then(
        (body) => response.writeHead(200).end(String(body.length)),
        (error: RequestBodyError) => response.writeHead(error.status, { connection: "close" }).end(error.message),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("reads a body within the limit", async () => {
    const response = await fetch(url, { method: "POST", body: "x".repeat(1024) });

    expect(await response.text()).toBe("1024");
  });

  it("answers 413 for a streamed body over the limit", async () => {
    const chunks = [new TextEncoder().encode("x".repeat(800)), new TextEncoder().encode("y".repeat(800))];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk === undefined) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(url, { method: "POST", body: stream, duplex: "half" } as RequestInit);

    expect(response.status).toBe(413);
    expect(await response.text()).toBe("request body is larger than 1024 bytes");
  });
});
