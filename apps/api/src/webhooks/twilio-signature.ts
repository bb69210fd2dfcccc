import { createHmac } from "node:crypto";
import { sameSignature } from "./signature-compare.js";

/**
 * Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, over the full URL
 * Twilio called followed by each POST parameter, sorted by name, as name then value.
 */
export function twilioSignature(authToken: string, url: string, params: Readonly<Record<string, string>>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], url);
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf8")).digest("base64");
}

/**
 * Checks a Twilio signature for `url`. Twilio may sign a URL with or without its scheme's default
 * port, so both spellings of that one port are accepted; any other port must match exactly. (The
 * SDK's `validateRequest` also drops non-default ports, which would let a signature for one port
 * pass on another.)
 */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: Readonly<Record<string, string>>,
  signature: string | undefined,
): boolean {
  if (signature === undefined || signature === "") return false;
  return defaultPortVariants(url).some((candidate) => sameSignature(signature, twilioSignature(authToken, candidate, params)));
}

/** The URL as given, plus the same URL with its scheme's default port written out or left out. */
export function defaultPortVariants(url: string): string[] {
  const match = /^(https?):\/\/([^/:?#]+)(?::(\d+))?(.*)$/i.exec(url);
  if (match === null) return [url];
  const [, scheme, host, port, rest] = match;
  const defaultPort = scheme?.toLowerCase() === "https" ? "443" : "80";
  if (port !== undefined && port !== defaultPort) return [url];
  return [`${scheme}://${host}${rest}`, `${scheme}://${host}:${defaultPort}${rest}`];
}
