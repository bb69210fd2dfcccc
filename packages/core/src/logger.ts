import { type Logger, pino } from "pino";

/**
 * pino redact paths for values that must never reach a log line. Numbers are logged only in
 * masked form, and codes never, so these paths are a second line of defence.
 */
export const REDACT_PATHS: readonly string[] = [
  "code",
  "otp",
  "*.otp",
  "to",
  "*.to",
  "email",
  "*.email",
  "phone",
  "*.phone",
  "body",
  "*.body",
  "text",
  "*.text",
  "payload",
  "*.payload",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "authToken",
  "*.authToken",
  "apiKey",
  "*.apiKey",
  "apiSecret",
  "*.apiSecret",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
];

export function createLogger(name: string, level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
