import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/max";
import { ValidationError } from "./errors.js";

export interface NormalizedPhone {
  /** The number in E.164, the only form stored or passed to a provider. */
  e164: string;
  /** ISO 3166 alpha-2 country of the number, when the metadata contains it. */
  country: string | undefined;
  /** libphonenumber-js number type, or UNKNOWN. */
  type: string;
}

/** Number types accepted when the caller sets no list: reachable by SMS, never premium or fixed-line. */
export const DEFAULT_ALLOWED_PHONE_TYPES: readonly string[] = [
  "MOBILE",
  "FIXED_LINE_OR_MOBILE",
  "VOIP",
  "PERSONAL_NUMBER",
  "UNKNOWN",
];

// Twilio's magic test numbers (+1 500 555 xxxx) sit in a range that libphonenumber-js rejects.
// They must stay valid, so that Twilio test credentials and the simulator work end to end.
const TWILIO_TEST_NUMBER = /^\+1500555\d{4}$/;

/**
 * Normalizes a number as a person types it (`0407 123 456` with country AU, `+44 (0)7911 123456`,
 * `tel:+15005550006`) to E.164.
 *
 * @throws ValidationError with `field` "to" or "country" when the number is invalid,
 *   unassigned, or of a type not in `allowedTypes`.
 */
export function normalizePhone(
  to: string,
  country?: string,
  allowedTypes: readonly string[] = DEFAULT_ALLOWED_PHONE_TYPES,
): NormalizedPhone {
  let defaultCountry: CountryCode | undefined;
  if (country !== undefined) {
    const upper = country.toUpperCase();
    if (!/^[A-Z]{2}$/.test(upper) || !isSupportedCountry(upper)) {
      throw new ValidationError(`country "${country}" is not an ISO 3166 alpha-2 code such as US or GB`, {
        field: "country",
      });
    }
    defaultCountry = upper;
  }

  const text = to.trim().replace(/^tel:/i, "");
  if (text.length === 0 || text.length > 40 || /[A-Za-z]/.test(text.replace(/^\+/, "").replace(/(ext|x)\.?\s*\d+$/i, ""))) {
    throw new ValidationError(
      "to must be a phone number of digits, spaces, dashes or brackets, in E.164 such as +14155550123 or national form with country",
      { field: "to" },
    );
  }

  const compact = text.replace(/[\s().-]/g, "");
  if (TWILIO_TEST_NUMBER.test(compact)) return { e164: compact, country: "US", type: "UNKNOWN" };

  // parsePhoneNumberFromString returns undefined (never throws) for input it cannot read.
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  if (parsed === undefined || !parsed.isValid()) {
    const hint = text.startsWith("+") || defaultCountry ? "" : " or pass country (ISO 3166 alpha-2) for national numbers";
    throw new ValidationError(`to is not a valid, assigned phone number: use E.164 such as +14155550123${hint}`, {
      field: "to",
    });
  }
  const type = parsed.getType() ?? "UNKNOWN";
  if (!allowedTypes.includes(type)) {
    throw new ValidationError(
      `to is a ${type.toLowerCase().replaceAll("_", "-")} number, which cannot receive codes here; use a mobile number`,
      {
        field: "to",
      },
    );
  }
  return { e164: parsed.number, country: parsed.country, type };
}

/**
 * Masks a number for display and logs: the country prefix, four asterisks and the last two
 * digits (+15005****06). At least four digits are always hidden, and the asterisk count does
 * not reveal the number's length.
 */
export function maskPhone(e164: string): string {
  if (e164.length <= 6) return "****";
  const visibleStart = Math.min(8, e164.length - 6);
  return `${e164.slice(0, visibleStart)}****${e164.slice(-2)}`;
}

/** Masks an email address for display: j***@example.com. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "***";
  return `${email[0]}***${email.slice(at)}`;
}
