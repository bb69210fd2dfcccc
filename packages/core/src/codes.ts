import { createHmac, randomInt, timingSafeEqual } from "node:crypto";

/** Generates a code of `length` decimal digits from the CSPRNG (leading zeros allowed). */
export function generateCode(length: number): string {
  let code = "";
  for (let index = 0; index < length; index += 1) code += String(randomInt(0, 10));
  return code;
}

/**
 * Hashes a code for storage: HMAC-SHA256 keyed by the code key and bound to the verification id,
 * so a hash copied to another verification does not match.
 */
export function hashCode(key: Buffer, verificationId: string, code: string): string {
  return createHmac("sha256", key).update(verificationId).update("\0").update(code).digest("hex");
}

/** Compares a submitted code with a stored hash in constant time. */
export function codeMatches(key: Buffer, verificationId: string, code: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, "hex");
  const actual = Buffer.from(hashCode(key, verificationId, code), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
