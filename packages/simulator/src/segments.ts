/**
 * Estimates how many SMS segments a text needs: 160 characters in one GSM-7 segment and 153 per
 * concatenated segment; 70 and 67 when the text needs UCS-2.
 * NOTE: printable ASCII except the backtick counts as GSM-7 and everything else as UCS-2, so
 * GSM-7 letters such as "é" or "£" and extension characters such as "{" are estimated wrongly.
 */
export function estimateSegments(text: string): number {
  const gsm = /^[\n\r\x20-\x5f\x61-\x7e]*$/.test(text);
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  // UCS-2 counts UTF-16 code units, which is what String.length returns.
  const length = text.length;
  if (length <= single) return 1;
  return Math.ceil(length / multi);
}
