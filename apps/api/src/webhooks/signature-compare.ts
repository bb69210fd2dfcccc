import { timingSafeEqual } from "node:crypto";

/** Compares two signatures in constant time for equal lengths. */
export function sameSignature(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}
