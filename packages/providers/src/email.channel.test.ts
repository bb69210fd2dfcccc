import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { DeliveryError } from "@otpin/core";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifySmtpError, classifySmtpReply, SmtpEmailChannel } from "./email.channel.js";
import type { EmailMessage } from "./types.js";

interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

const received: ReceivedMail[] = [];
let smtp: SMTPServer;
let smtpPort: number;

function message(to: string): EmailMessage {
  return {
    otpId: "otp_test",
    to,
    subject: "Your code",
    text: "Your code is 482913",
    html: "<p>Your code is <b>482913</b></p>",
  };
}

async function expectDeliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("missing@")) {
        callback(Object.assign(new Error("5.1.1 mailbox unavailable"), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  smtp.listen(0, "127.0.0.1");
  await once(smtp.server, "listening");
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

describe("SmtpEmailChannel", () => {
  it("delivers text and HTML with the code", async () => {
    const channel = new SmtpEmailChannel({ smtpUrl: `smtp://127.0.0.1:${smtpPort}`, from: "otp@example.com", timeoutMs: 2000 });
    try {
      const result = await channel.send(message("user@example.com"));

      expect(result.provider).toBe("email");
      expect(result.messageId).toMatch(/^<.+>$/);
      const mail = received.at(-1);
      expect(mail?.from).toBe("otp@example.com");
      expect(mail?.to).toEqual(["user@example.com"]);
      expect(mail?.raw).toContain("Content-Type: text/plain");
      expect(mail?.raw).toContain("Content-Type: text/html");
      expect(mail?.raw).toContain("Your code is 482913");
      expect(mail?.raw).toContain("<b>482913</b>");
    } finally {
      await channel.close();
    }
  });

  it("maps a 550 recipient rejection to invalid_recipient", async () => {
    const channel = new SmtpEmailChannel({ smtpUrl: `smtp://127.0.0.1:${smtpPort}`, from: "otp@example.com", timeoutMs: 2000 });
    try {
      const error = await expectDeliveryError(channel.send(message("missing@example.com")));

      expect(error.errorClass).toBe("invalid_recipient");
      expect(error.provider).toBe("email");
      expect(error.providerCode).toBe("550");
      expect(error.message).not.toContain("missing@example.com");
    } finally {
      await channel.close();
    }
  });

  it("rejects when the server never sends a greeting", async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const port = (silent.address() as AddressInfo).port;
    const channel = new SmtpEmailChannel({ smtpUrl: `smtp://127.0.0.1:${port}`, from: "otp@example.com", timeoutMs: 500 });
    const started = Date.now();
    try {
      const error = await expectDeliveryError(channel.send(message("user@example.com")));

      expect(Date.now() - started).toBeLessThan(3000);
      expect(error.errorClass).toBe("timeout");
      expect(error.provider).toBe("email");
      expect(error.message).toContain("SMTP");
      // Greeting and socket timeouts share timeoutMs, so either one may fire first.
      expect(error.message).toMatch(/GREETING_TIMEOUT|SOCKET_TIMEOUT/);
    } finally {
      await channel.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("maps a refused connection to provider_unavailable", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const channel = new SmtpEmailChannel({ smtpUrl: `smtp://127.0.0.1:${port}`, from: "otp@example.com", timeoutMs: 500 });
    try {
      const error = await expectDeliveryError(channel.send(message("user@example.com")));

      expect(error.errorClass).toBe("provider_unavailable");
      expect(error.message).toContain("SMTP");
    } finally {
      await channel.close();
    }
  });
});

describe("classifySmtpReply", () => {
  it.each([
    [535, "auth"],
    [530, "auth"],
    [550, "invalid_recipient"],
    [553, "invalid_recipient"],
    [421, "provider_unavailable"],
    [451, "provider_unavailable"],
    [552, "unknown"],
    [554, "unknown"],
  ] as const)("maps reply %i to %s", (code, errorClass) => {
    expect(classifySmtpReply(code)).toBe(errorClass);
  });
});

describe("classifySmtpError", () => {
  it.each([
    ["ETIMEDOUT", "timeout"],
    ["ECONNECTION", "provider_unavailable"],
    ["ESOCKET", "provider_unavailable"],
    ["EDNS", "provider_unavailable"],
    ["ETLS", "provider_unavailable"],
    ["EAUTH", "auth"],
    ["ENOAUTH", "auth"],
    ["EMESSAGE", "unknown"],
  ] as const)("maps nodemailer code %s to %s", (code, errorClass) => {
    expect(classifySmtpError(Object.assign(new Error("x"), { code })).errorClass).toBe(errorClass);
  });

  it("keeps EAUTH as auth despite its 5xx reply", () => {
    const error = classifySmtpError(Object.assign(new Error("Invalid login"), { code: "EAUTH", responseCode: 550 }));

    expect(error.errorClass).toBe("auth");
  });
});
