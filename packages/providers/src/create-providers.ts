import { ConfigError, type SmsProviderName, type WorkerConfig } from "@otpin/core";
import { SmtpEmailChannel } from "./email.channel.js";
import { PlivoProvider } from "./plivo.provider.js";
import { TwilioProvider } from "./twilio.provider.js";
import type { EmailChannel, SmsProvider } from "./types.js";
import { VonageProvider } from "./vonage.provider.js";

/** Names of the providers listed in SMS_PROVIDERS or in any SMS_ROUTES entry, in first-seen order. */
export function usedSmsProviders(config: WorkerConfig): SmsProviderName[] {
  const names = new Set<SmsProviderName>(config.SMS_PROVIDERS);
  for (const order of Object.values(config.SMS_ROUTES ?? {})) for (const name of order) names.add(name);
  return [...names];
}

/**
 * Creates one adapter for each provider that SMS_PROVIDERS or SMS_ROUTES names.
 *
 * @throws ConfigError when a provider's credentials are missing; `loadWorkerConfig` already
 *   rejects that, so this guards hand-built configs.
 */
export function createSmsProviders(config: WorkerConfig): Map<SmsProviderName, SmsProvider> {
  const providers = new Map<SmsProviderName, SmsProvider>();
  for (const name of usedSmsProviders(config)) providers.set(name, createSmsProvider(name, config));
  return providers;
}

function createSmsProvider(name: SmsProviderName, config: WorkerConfig): SmsProvider {
  const timeoutMs = config.PROVIDER_TIMEOUT_MS;
  switch (name) {
    case "twilio":
      return new TwilioProvider({
        accountSid: required(config, "TWILIO_ACCOUNT_SID"),
        authToken: required(config, "TWILIO_AUTH_TOKEN"),
        from: required(config, "TWILIO_FROM"),
        apiUrl: config.TWILIO_API_URL,
        timeoutMs,
      });
    case "plivo":
      return new PlivoProvider({
        authId: required(config, "PLIVO_AUTH_ID"),
        authToken: required(config, "PLIVO_AUTH_TOKEN"),
        from: required(config, "PLIVO_FROM"),
        apiUrl: config.PLIVO_API_URL,
        timeoutMs,
      });
    case "vonage":
      return new VonageProvider({
        apiKey: required(config, "VONAGE_API_KEY"),
        apiSecret: required(config, "VONAGE_API_SECRET"),
        from: required(config, "VONAGE_FROM"),
        apiUrl: config.VONAGE_API_URL,
        timeoutMs,
      });
  }
}

/** Creates the email fallback channel, or returns undefined when SMTP_URL is unset. */
export function createEmailChannel(config: WorkerConfig): EmailChannel | undefined {
  if (config.SMTP_URL === undefined) return undefined;
  return new SmtpEmailChannel({
    smtpUrl: config.SMTP_URL,
    from: required(config, "EMAIL_FROM"),
    timeoutMs: config.SMTP_TIMEOUT_MS,
  });
}

type CredentialVariable =
  | "TWILIO_ACCOUNT_SID"
  | "TWILIO_AUTH_TOKEN"
  | "TWILIO_FROM"
  | "PLIVO_AUTH_ID"
  | "PLIVO_AUTH_TOKEN"
  | "PLIVO_FROM"
  | "VONAGE_API_KEY"
  | "VONAGE_API_SECRET"
  | "VONAGE_FROM"
  | "EMAIL_FROM";

function required(config: WorkerConfig, variable: CredentialVariable): string {
  const value = config[variable];
  if (value === undefined || value === "") {
    const message = "missing: required because the provider that uses it is configured";
    throw new ConfigError(`invalid configuration:\n  ${variable}: ${message}`, [{ variable, message }]);
  }
  return value;
}
