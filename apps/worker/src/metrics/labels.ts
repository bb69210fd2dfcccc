import { DELIVERY_ERROR_CLASSES } from "@otpin/core";

/** Provider label values; a name outside this list is reported as `other`, so no free text becomes a label. */
export const PROVIDER_LABELS = ["twilio", "plivo", "vonage", "email"] as const;
export const CHANNEL_LABELS = ["sms", "email"] as const;

const providers: ReadonlySet<string> = new Set(PROVIDER_LABELS);
const channels: ReadonlySet<string> = new Set(CHANNEL_LABELS);
const errorClasses: ReadonlySet<string> = new Set(DELIVERY_ERROR_CLASSES);

/** `error_class` value for an attempt that succeeded. */
export const NO_ERROR_CLASS = "none";

export function providerLabel(provider: string): string {
  return providers.has(provider) ? provider : "other";
}

export function channelLabel(channel: string): string {
  return channels.has(channel) ? channel : "other";
}

export function errorClassLabel(errorClass: string | undefined): string {
  if (errorClass === undefined) return NO_ERROR_CLASS;
  return errorClasses.has(errorClass) ? errorClass : "unknown";
}
