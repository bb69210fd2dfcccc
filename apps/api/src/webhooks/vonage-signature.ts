import { createHash, createHmac } from "node:crypto";
import type { VonageSignatureMethod } from "@otpin/core";
import { sameSignature } from "./signature-compare.js";

const HMAC_ALGORITHMS: Readonly<Record<Exclude<VonageSignatureMethod, "md5hash">, string>> = {
  md5hmac: "md5",
  sha1hmac: "sha1",
  sha256hmac: "sha256",
  sha512hmac: "sha512",
};

/**
 * Vonage's signed-webhook `sig`, as @vonage/sms's `verifySignature` computes it: `&name=value` for
 * every parameter but `sig`, sorted by name, with `&` and `=` in values replaced by `_`; then md5
 * of that text followed by the secret, or an HMAC of it keyed with the secret. Hex.
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
  return createHmac(HMAC_ALGORITHMS[method], secret).update(text).digest("hex");
}

/** Checks the `sig` parameter of a Vonage webhook; hex case does not matter. */
export function verifyVonageSignature(
  secret: string,
  method: VonageSignatureMethod,
  params: Readonly<Record<string, string>>,
): boolean {
  const presented = params.sig;
  if (presented === undefined || presented === "") return false;
  return sameSignature(presented.toLowerCase(), vonageSignature(secret, method, params));
}
