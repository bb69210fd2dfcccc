import { createHmac } from "node:crypto";
import { sameSignature } from "./signature-compare.js";

/**
 * Plivo's `X-Plivo-Signature-V3` for a POST, as the plivo SDK's `validateV3Signature` rebuilds it:
 * base64 HMAC-SHA256, keyed with the auth token, over
 * `<scheme>://<host[:port]><path>?<sorted query>[.]<sorted name+value pairs>.<nonce>`.
 */
export function plivoV3Signature(
  authToken: string,
  url: string,
  nonce: string,
  params: Readonly<Record<string, string>>,
): string {
  return createHmac("sha256", authToken)
    .update(`${plivoPostBase(url, params)}.${nonce}`)
    .digest("base64");
}

/** Checks a V3 signature header, which may list several comma-separated signatures. The port is part of the URL signed. */
export function verifyPlivoSignature(
  authToken: string,
  url: string,
  params: Readonly<Record<string, string>>,
  signatureHeader: string | undefined,
  nonce: string | undefined,
): boolean {
  if (!signatureHeader || !nonce) return false;
  const expected = plivoV3Signature(authToken, url, nonce, params);
  return signatureHeader.split(",").some((signature) => sameSignature(signature.trim(), expected));
}

function plivoPostBase(url: string, params: Readonly<Record<string, string>>): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(url);
  if (match === null) throw new TypeError("a Plivo signature needs an absolute URL");
  const [, scheme, authority, path = "", query = ""] = match;
  const queryPairs = [...new URLSearchParams(query)]
    .sort(([a, x], [b, y]) => (a === b ? order(x, y) : order(a, b)))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const hasParams = Object.keys(params).length > 0;
  let base = `${scheme}://${authority}${path}`;
  if (queryPairs !== "" || hasParams) base += `?${queryPairs}`;
  if (queryPairs !== "" && hasParams) base += ".";
  return (
    base +
    Object.keys(params)
      .sort()
      .map((name) => `${name}${params[name]}`)
      .join("")
  );
}

function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
