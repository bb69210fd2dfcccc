// GSM 03.38 basic character set and its extension table (each extension character costs two units).
const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION = "\f^{}\\[~]|€";

const basicSet = new Set(GSM7_BASIC);
const extensionSet = new Set(GSM7_EXTENSION);

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SmsSegmentInfo {
  encoding: SmsEncoding;
  /** GSM-7 septets, or UCS-2 16-bit code units. */
  units: number;
  segments: number;
}

export function isGsm7(text: string): boolean {
  for (const char of text) if (!basicSet.has(char) && !extensionSet.has(char)) return false;
  return true;
}

/**
 * Counts the encoding units and segments of an SMS body. GSM-7 fits 160 units in one segment and
 * 153 per segment when concatenated; UCS-2 fits 70 and 67, and characters outside the basic
 * multilingual plane take two units.
 */
export function countSmsSegments(text: string): SmsSegmentInfo {
  if (isGsm7(text)) {
    let units = 0;
    for (const char of text) units += extensionSet.has(char) ? 2 : 1;
    return { encoding: "GSM-7", units, segments: segmentsFor(units, 160, 153) };
  }
  const units = text.length; // JavaScript strings are UTF-16, so length counts UCS-2 units.
  return { encoding: "UCS-2", units, segments: segmentsFor(units, 70, 67) };
}

function segmentsFor(units: number, single: number, perPart: number): number {
  if (units === 0) return 1;
  return units <= single ? 1 : Math.ceil(units / perPart);
}
