import { createHmac } from "node:crypto";

/**
 * Keyed hash (HMAC-SHA256 with the `lookupKey` derived from OTP_SECRET) used in Redis key names
 * instead of phone numbers, number ranges or client addresses. A plain hash of a phone number is
 * reversed by hashing every number of a range, so a leaked Redis dump would give the numbers
 * back; without the secret the keyed hash cannot be reversed that way.
 *
 * `kind` separates the purposes, so a recipient hash never equals a range hash of the same digits.
 */
export function lookupHash(lookupKey: Buffer, kind: string, value: string): string {
  return createHmac("sha256", lookupKey).update(`${kind}\n${value}`).digest("hex").slice(0, 40);
}
