/** Returns a code of the same length that differs from `code` in its first digit, so it never matches. */
export function wrongCode(code: string): string {
  return code.replace(/^./, (digit) => String((Number(digit) + 1) % 10));
}
