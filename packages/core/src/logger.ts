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
  // Codes, keys, secrets and provider tokens under any name they travel by.
  "otpCode",
  "*.otpCode",
  "e164",
  "*.e164",
  "clientIp",
  "*.clientIp",
  "apiKeys",
  "*.apiKeys",
  "API_KEYS",
  "*.API_KEYS",
  "OTP_SECRET",
  "*.OTP_SECRET",
  "OTP_SECRET_PREVIOUS",
  "*.OTP_SECRET_PREVIOUS",
  "*.TWILIO_AUTH_TOKEN",
  "*.PLIVO_AUTH_TOKEN",
  "*.VONAGE_API_SECRET",
  "*.VONAGE_SIGNATURE_SECRET",
  "*.SMTP_URL",
  "accessToken",
  "*.accessToken",
  "signature",
  "*.signature",
  "*.headers.authorization",
  "*.headers.cookie",
  '*.headers["x-twilio-signature"]',
  // HTTP client errors (axios in the provider SDKs) carry the request: credentials and the body with the number.
  "err.config",
  "err.request",
  "err.response.config",
  "err.response.request",
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
