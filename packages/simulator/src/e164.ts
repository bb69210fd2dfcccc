const E164 = /^\+[1-9]\d{6,14}$/;

/** Checks that a number is E.164: a `+`, then 7 to 15 digits with no leading zero. */
export function isE164(value: string): boolean {
  return E164.test(value);
}

/** Converts a number that may lack the leading `+` (Plivo, Vonage) to E.164, or undefined when it is not a number. */
export function toE164(value: string): string | undefined {
  const candidate = value.startsWith("+") ? value : `+${value}`;
  return isE164(candidate) ? candidate : undefined;
}
