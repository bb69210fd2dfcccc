import { createHash, createHmac } from "node:crypto";

/** Vonage "signed webhooks" methods, named as in @vonage/auth's AlgorithmTypes. */
export type VonageSignatureMethod = "md5hash" | "md5hmac" | "sha1hmac" | "sha256hmac" | "sha512hmac";

/**
 * `X-Twilio-Signature`: base64 HMAC-SHA1 with the auth token over the full URL followed by every
 * POST parameter, sorted by name, as name then value with no separator.
 */
export function twilioSignature(authToken: string, url: string, params: Readonly<Record<string, string>>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], url);
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf8")).digest("base64");
}

/**
 * `X-Plivo-Signature-V3` of a POST: base64 HMAC-SHA256 with the auth token over
 * `<scheme>://<host[:port]><path>?<sorted query>[.]<sorted name+value pairs>.<nonce>`, the way
 * plivo's `validateV3Signature` rebuilds it.
 */
export function plivoV3Signature(
  authToken: string,
  url: string,
  nonce: string,
  params: Readonly<Record<string, string>>,
): string {
  const base = plivoPostBase(url, params);
  return createHmac("sha256", authToken).update(`${base}.${nonce}`).digest("base64");
}

function plivoPostBase(url: string, params: Readonly<Record<string, string>>): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(url);
  if (match === null) throw new Error("plivo signature needs an absolute URL");
  const [, scheme, authority, path = "", query = ""] = match;
  const queryPairs = [...new URLSearchParams(query)]
    .sort(([a, x], [b, y]) => (a === b ? compare(x, y) : compare(a, b)))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const hasParams = Object.keys(params).length > 0;
  let base = `${scheme}://${authority}${path}`;
  if (queryPairs !== "" || hasParams) base += `?${queryPairs}`;
  if (queryPairs !== "" && hasParams) base += ".";
  const sorted = Object.keys(params)
    .sort()
    .map((name) => `${name}${params[name]}`)
    .join("");
  return base + sorted;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const VONAGE_HMACS: Readonly<Record<Exclude<VonageSignatureMethod, "md5hash">, string>> = {
  md5hmac: "md5",
  sha1hmac: "sha1",
  sha256hmac: "sha256",
  sha512hmac: "sha512",
};

/**
 * Vonage's `sig` parameter: `&name=value` for every parameter but `sig`, sorted by name, with `&`
 * and `=` in values replaced by `_`; then md5 of that text followed by the secret, or an HMAC of
 * it keyed with the secret. Lower-case hex.
 */
export function vonageSignature(secret: string, method: VonageSignatureMethod, params: Readonly<Record<string, string>>): string {
  const text = Object.keys(params)
    .filter((name) => name !== "sig")
    .sort()
    .map((name) => `&${name}=${String(params[name]).replace(/[&=]/g, "_")}`)
    .join("");
  if (method === "md5hash")
    return createHash("md5")
      .update(text + secret)
      .digest("hex");
  return createHmac(VONAGE_HMACS[method], secret).update(text).digest("hex");
}
