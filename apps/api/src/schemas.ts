import { isIP } from "node:net";
import { ValidationError } from "@otpin/core";
import { z } from "zod";

/** Maximum length of an email address (RFC 5321 path limit). */
export const EMAIL_MAX_LENGTH = 254;

const TO_MAX_LENGTH = 64;
const LOCALE_PATTERN = /^([A-Za-z]{2,3})(?:-([A-Za-z]{2}))?$/;

/** Builds a string schema whose type error names the field and the expected form. */
function stringField(field: string, hint: string) {
  return z.string({
    error: (issue) => (issue.input === undefined ? `${field} is missing: ${hint}` : `${field} must be a string: ${hint}`),
  });
}

const TO_HINT = "send a phone number in E.164 such as +14155550123, or a national number with country";

/** Body of `POST /v1/otp`. Unknown fields are rejected so a typo such as `phone` is not silently ignored. */
export const sendOtpBodySchema = z.strictObject(
  {
    to: stringField("to", TO_HINT)
      .min(1, `to is empty: ${TO_HINT}`)
      .max(TO_MAX_LENGTH, `to is longer than ${TO_MAX_LENGTH} characters: ${TO_HINT}`),
    country: stringField("country", "send an ISO 3166 alpha-2 code such as US or GB")
      .regex(/^[A-Za-z]{2}$/, "country must be an ISO 3166 alpha-2 code such as US or GB")
      .transform((value) => value.toUpperCase())
      .optional(),
    email: stringField("email", "send an address such as name@example.com")
      .max(EMAIL_MAX_LENGTH, `email is longer than ${EMAIL_MAX_LENGTH} characters: send a shorter address`)
      .pipe(z.email("email is not a valid address: send an address such as name@example.com"))
      .optional(),
    locale: stringField("locale", "send a language tag such as en or en-GB")
      .regex(LOCALE_PATTERN, "locale must be a language tag such as en or en-GB")
      .transform(canonicalLocale)
      .optional(),
    // The end user's address, for the per-client limit: the socket peer is the calling app's own server.
    clientIp: stringField("clientIp", "send the end user's IPv4 or IPv6 address such as 203.0.113.7")
      .max(64, "clientIp must be an IPv4 or IPv6 address such as 203.0.113.7")
      .refine((value) => isIP(value) !== 0, "clientIp must be an IPv4 or IPv6 address such as 203.0.113.7")
      .optional(),
  },
  { error: bodyError('{"to":"+14155550123"}') },
);

export type SendOtpBody = z.output<typeof sendOtpBodySchema>;

/** Builds the body schema of `POST /v1/otp/:id/verify`, whose `code` must be exactly `codeLength` digits. */
export function verifyOtpBodySchema(codeLength: number) {
  const hint = `send the ${codeLength}-digit code as a string such as "${"0".repeat(codeLength)}"`;
  return z.strictObject(
    {
      code: stringField("code", hint).regex(
        new RegExp(`^\\d{${codeLength}}$`),
        `code must be exactly ${codeLength} digits: ${hint}`,
      ),
    },
    { error: bodyError(`{"code":"${"0".repeat(codeLength)}"}`) },
  );
}

export type VerifyOtpBody = z.output<ReturnType<typeof verifyOtpBodySchema>>;

/**
 * Parses a request body with a schema.
 *
 * @throws ValidationError whose `field` names the first offending field and whose message states how to fix it.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;

  const issue = result.error.issues[0];
  if (issue === undefined) throw new ValidationError("request body is invalid");
  if (issue.code === "unrecognized_keys") {
    const field = issue.keys[0] ?? "body";
    throw new ValidationError(`${field} is not a known field: remove it`, { field });
  }
  const field = issue.path.length > 0 ? String(issue.path[0]) : undefined;
  throw new ValidationError(issue.message, field === undefined ? {} : { field });
}

/** Builds the message for a body that is not a JSON object, with a valid example. */
function bodyError(example: string) {
  return (issue: { code?: string | undefined }): string | undefined =>
    issue.code === "invalid_type" ? `request body must be a JSON object such as ${example}` : undefined;
}

/** Normalizes case so `EN-gb` and `en-GB` reach the templates as the same tag. */
function canonicalLocale(value: string): string {
  const [, language = "", region] = LOCALE_PATTERN.exec(value) ?? [];
  return region === undefined ? language.toLowerCase() : `${language.toLowerCase()}-${region.toUpperCase()}`;
}
