import type { VonageSignatureMethod } from "./receipt-signing.js";

/** Credentials of every simulated provider. */
export interface SimulatorCredentials {
  twilio: { accountSid: string; authToken: string };
  plivo: { authId: string; authToken: string };
  /** `signatureSecret` and `signatureMethod` sign delivery receipts (Vonage "signed webhooks"). */
  vonage: { apiKey: string; apiSecret: string; signatureSecret: string; signatureMethod: VonageSignatureMethod };
}

/** Credentials that the simulator accepts unless `SimulatorOptions.credentials` overrides them. */
export const SIMULATOR_CREDENTIALS: Readonly<SimulatorCredentials> = Object.freeze({
  twilio: { accountSid: "AC0123456789abcdef0123456789abcdef", authToken: "sim-twilio-token" },
  plivo: { authId: "MAOTPINSIMULATOR0001", authToken: "sim-plivo-token" },
  vonage: {
    apiKey: "simkey01",
    apiSecret: "sim-vonage-secret",
    signatureSecret: "sim-vonage-signature-secret",
    signatureMethod: "md5hash" as const,
  },
});

/** Per-provider credentials to use in place of some of `SIMULATOR_CREDENTIALS`. */
export type CredentialOverrides = { [K in keyof SimulatorCredentials]?: Partial<SimulatorCredentials[K]> };

/** Merges per-provider overrides onto the default simulator credentials. */
export function resolveCredentials(overrides: CredentialOverrides = {}): SimulatorCredentials {
  return {
    twilio: { ...SIMULATOR_CREDENTIALS.twilio, ...overrides.twilio },
    plivo: { ...SIMULATOR_CREDENTIALS.plivo, ...overrides.plivo },
    vonage: { ...SIMULATOR_CREDENTIALS.vonage, ...overrides.vonage },
  };
}

/** Decoded HTTP Basic credentials. */
export interface BasicCredentials {
  username: string;
  password: string;
}

/** Decodes an `Authorization: Basic ...` header; returns undefined when it is missing or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match?.[1] === undefined) return undefined;

  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
