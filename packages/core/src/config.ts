import { isIP } from "node:net";
import { isSupportedCountry } from "libphonenumber-js/max";
import { z } from "zod";
import { ConfigError } from "./errors.js";

/** Development-only secret used in demo mode, so the quick start needs no configuration. */
export const DEMO_OTP_SECRET = "otpin-demo-secret-do-not-use-in-production";

const SMS_PROVIDER_NAMES = ["twilio", "plivo", "vonage"] as const;
export type SmsProviderName = (typeof SMS_PROVIDER_NAMES)[number];

/** libphonenumber-js number types, plus UNKNOWN for numbers whose type the metadata cannot tell. */
const PHONE_NUMBER_TYPES = [
  "MOBILE",
  "FIXED_LINE",
  "FIXED_LINE_OR_MOBILE",
  "PREMIUM_RATE",
  "TOLL_FREE",
  "SHARED_COST",
  "VOIP",
  "PERSONAL_NUMBER",
  "PAGER",
  "UAN",
  "VOICEMAIL",
  "UNKNOWN",
] as const;

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
  .transform((value) => value === "true" || value === "1" || value === "yes");

/**
 * A whole number written in plain decimal digits. `Number()` alone would read " " as 0 (which
 * turns a limit off), "0x10" as 16 and "1e3" as 1000.
 */
const decimalInt = (message: string) =>
  z
    .string()
    .regex(/^\s*\d{1,15}\s*$/, message)
    .transform((value) => Number(value.trim()));

const port = decimalInt("expected a port number 0-65535 in decimal digits").pipe(
  z.number().min(0, "expected 0-65535").max(65535, "expected 0-65535"),
);

const positiveInt = (min = 1, max = Number.MAX_SAFE_INTEGER) =>
  decimalInt(`expected a whole number from ${min} to ${max} in decimal digits`).pipe(
    z.number().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`),
  );

/** Parses a URL without throwing; undefined when `value` is not one. */
function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      const parsed = parseUrl(value);
      return parsed !== undefined && protocols.includes(parsed.protocol) && parsed.hostname !== "";
    },
    { message: `expected a URL starting with ${protocols.map((protocol) => `${protocol}//`).join(" or ")} and a host` },
  );

const providerList = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ""),
  )
  .pipe(
    z
      .array(z.enum(SMS_PROVIDER_NAMES, { message: `expected a comma-separated list of ${SMS_PROVIDER_NAMES.join(", ")}` }))
      .min(1, "expected at least one provider")
      .refine((names) => new Set(names).size === names.length, "a provider is listed twice"),
  );

/** Parses `IN=plivo,twilio;GB=vonage,twilio` into a map from ISO country to provider order. */
const smsRoutes = z.string().transform((value, context) => {
  const routes: Record<string, SmsProviderName[]> = {};
  for (const entry of value.split(";").map((part) => part.trim())) {
    if (entry === "") continue;
    const match = /^([A-Za-z]{2})=(.+)$/.exec(entry);
    const parsed = match ? providerList.safeParse(match[2]) : undefined;
    if (!match || !parsed?.success) {
      context.addIssue({
        code: "custom",
        message: `invalid route "${entry}": expected COUNTRY=provider,provider entries separated by ";", for example IN=plivo,twilio;GB=vonage`,
      });
      return z.NEVER;
    }
    const country = match[1]!.toUpperCase();
    const problem = countryCodeProblem(country);
    if (problem !== undefined) {
      context.addIssue({ code: "custom", message: `route "${entry}": ${problem}` });
      return z.NEVER;
    }
    if (routes[country] !== undefined) {
      context.addIssue({ code: "custom", message: `${country} has two routes; keep one` });
      return z.NEVER;
    }
    routes[country] = parsed.data;
  }
  return routes;
});

/**
 * Returns why `code` cannot stand for a destination country, or undefined when it can. A code no
 * phone number belongs to (UK for GB, say) would never match one, so its rule would never apply.
 */
function countryCodeProblem(code: string): string | undefined {
  if (isSupportedCountry(code)) return undefined;
  return `${code} is not an ISO 3166 alpha-2 country with phone numbers; use codes such as US,GB`;
}

const countryList = z.string().transform((value, context) => {
  const codes = value
    .split(",")
    .map((code) => code.trim().toUpperCase())
    .filter((code) => code !== "");
  for (const code of codes) {
    const problem = countryCodeProblem(code);
    if (problem !== undefined) {
      context.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
  }
  const repeated = codes.find((code, index) => codes.indexOf(code) !== index);
  if (repeated !== undefined) {
    context.addIssue({ code: "custom", message: `${repeated} is listed twice` });
    return z.NEVER;
  }
  return codes;
});

/** Vonage "signed webhooks" methods, named as in @vonage/auth's AlgorithmTypes. */
export const VONAGE_SIGNATURE_METHODS = ["md5hash", "md5hmac", "sha1hmac", "sha256hmac", "sha512hmac"] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

/**
 * Public origin (and optional path prefix) that providers call, in the normalised form the
 * providers are given and the webhook signatures are checked against, without a trailing slash.
 */
const publicBaseUrl = url(["http:", "https:"])
  .refine((value) => {
    // zod runs this refinement even when the URL check above failed; that case is reported there.
    const parsed = parseUrl(value);
    return (
      parsed === undefined || (parsed.search === "" && parsed.hash === "" && parsed.username === "" && parsed.password === "")
    );
  }, "expected a base URL without query, fragment or credentials, such as https://otp.example.com")
  .transform((value) => {
    // `http:host` and `HTTPS://Host:443/` parse to http://host and https://host, the URL a provider calls.
    const parsed = new URL(value);
    return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, "");
  });

/**
 * A Redis URL whose database, in the path or in ioredis's `db` query option, is an index that a
 * default Redis has (0-15). ioredis sends SELECT NaN for a non-number and stays on database 0
 * after an index the server refuses.
 */
const redisUrl = url(["redis:", "rediss:"]).refine((value) => {
  const parsed = parseUrl(value);
  if (parsed === undefined) return true;
  const fromQuery = parsed.searchParams.getAll("db");
  if (fromQuery.length > 1 || (fromQuery.length === 1 && !["", "/"].includes(parsed.pathname))) return false;
  return /^\/?(?:\d|1[0-5])?$/.test(parsed.pathname) && fromQuery.every((db) => /^(?:\d|1[0-5])$/.test(db));
}, "expected the database once, as a number from 0 to 15, such as redis://127.0.0.1:6379/0");

/** Variables read by both the API and the worker. */
const sharedShape = {
  DEMO_MODE: booleanFlag.default(false),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      message: "expected one of fatal, error, warn, info, debug, trace, silent",
    })
    .default("info"),
  REDIS_URL: redisUrl.default("redis://127.0.0.1:6379"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, dots, dashes or underscores")
    .default("otpin"),
  OTP_SECRET: z.string().min(32, "expected at least 32 characters; generate one with `openssl rand -hex 32`").optional(),
  OTP_SECRET_PREVIOUS: z.string().min(32, "expected at least 32 characters").optional(),
  OTP_TTL_SECONDS: positiveInt(30, 86_400).default(300),
  OTP_LENGTH: positiveInt(4, 10).default(6),
  OTP_MAX_VERIFY_ATTEMPTS: positiveInt(1, 20).default(5),
  APP_NAME: z
    .string()
    .regex(
      /^[A-Za-z0-9 .&'_-]{1,30}$/,
      "expected 1-30 plain letters, digits, spaces or . & ' _ -, so the SMS stays GSM-7 and one segment",
    )
    .default("otpin"),
};

// --- Security: parsers for API keys, trusted proxies and per-country amounts. ---

/** Parses `name:sha256hex` entries (the SHA-256 of each key, never the key) separated by commas. */
const apiKeyList = z.string().transform((value, context) => {
  const entries: { name: string; sha256: string }[] = [];
  for (const entry of value.split(",").map((part) => part.trim())) {
    if (entry === "") continue;
    const match = /^([A-Za-z0-9_.-]{1,64}):([0-9a-fA-F]{64})$/.exec(entry);
    if (!match) {
      context.addIssue({
        code: "custom",
        message: `an entry is not name:sha256hex (${entry.length} characters); mint one with \`pnpm --filter @otpin/api mint-key <name>\``,
      });
      return z.NEVER;
    }
    if (entries.some((known) => known.name === match[1])) {
      context.addIssue({ code: "custom", message: `key name "${match[1]}" is listed twice` });
      return z.NEVER;
    }
    entries.push({ name: match[1]!, sha256: match[2]!.toLowerCase() });
  }
  if (entries.length === 0) context.addIssue({ code: "custom", message: "expected at least one name:sha256hex entry" });
  return entries;
});

/** Names proxy-addr (fastify's trustProxy) reads as sets of ranges. */
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** Checks one trusted proxy entry: an IPv4 or IPv6 address with an optional CIDR prefix length, or a range name. */
function isAddressOrRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = "", prefix, extra] = entry.split("/");
  const family = isIP(address);
  // proxy-addr matches no address that carries a zone index (fe80::1%eth0).
  if (family === 0 || address.includes("%") || extra !== undefined) return false;
  if (prefix === undefined) return true;
  // proxy-addr rejects a prefix of 0; trusting every address is TRUST_PROXY=true.
  return /^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** fastify's trustProxy: true/false, a hop count, or comma-separated addresses and CIDR ranges. */
const trustProxy = z.string().transform((value, context): boolean | number | string => {
  const text = value.trim().toLowerCase();
  if (text === "true" || text === "yes") return true;
  if (text === "false" || text === "no" || text === "0") return false;
  // A number counts proxy hops, so "1" trusts exactly one proxy in front of the API.
  if (/^\d{1,2}$/.test(text)) return Number(text);
  // proxy-addr accepts its range names in lower case only.
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .map((entry) => (PROXY_RANGE_NAMES.has(entry.toLowerCase()) ? entry.toLowerCase() : entry))
    .filter((entry) => entry !== "");
  const bad = entries.find((entry) => !isAddressOrRange(entry));
  if (entries.length === 0 || bad !== undefined) {
    context.addIssue({
      code: "custom",
      message: `${bad === undefined ? "no entry" : `"${bad}" is not an IP address or CIDR range`}: expected true, false, a hop count up to 99, or addresses and ranges such as 10.0.0.0/8,::1,loopback`,
    });
    return z.NEVER;
  }
  return entries.join(",");
});

/** Parses `GB=0.04,US=0.0079,*=0.05` into amounts per ISO country; `*` is every other country; `off` is none. */
const countryAmounts = z.string().transform((value, context) => {
  const amounts: Record<string, number> = {};
  if (value.trim().toLowerCase() === "off") return amounts;
  for (const entry of value.split(",").map((part) => part.trim())) {
    if (entry === "") continue;
    const match = /^([A-Za-z]{2}|\*)=(\d+(?:\.\d+)?)$/.exec(entry);
    if (!match) {
      context.addIssue({
        code: "custom",
        message: `invalid entry "${entry}": expected COUNTRY=amount such as GB=0.04 or *=0.05`,
      });
      return z.NEVER;
    }
    const country = match[1]!.toUpperCase();
    const problem = country === "*" ? undefined : countryCodeProblem(country);
    if (problem !== undefined || amounts[country] !== undefined) {
      context.addIssue({ code: "custom", message: problem ?? `${country} is listed twice; keep one entry` });
      return z.NEVER;
    }
    amounts[country] = Number(match[2]);
  }
  return amounts;
});

/** One invalid or missing variable, with the fix. */
interface ConfigProblem {
  variable: string;
  message: string;
}

const MISSING_API_KEYS =
  "missing: set name:sha256hex entries from `pnpm --filter @otpin/api mint-key <name>`, or set DEMO_MODE=true for a printed dev key";

/** Reports missing API_KEYS outside demo mode, read from the raw variables like missingSecret. */
function missingApiKeys(input: Record<string, string>): ConfigProblem[] {
  const demo = ["true", "1", "yes"].includes(input.DEMO_MODE ?? "");
  return !demo && input.API_KEYS === undefined ? [{ variable: "API_KEYS", message: MISSING_API_KEYS }] : [];
}

const MISSING_SECRET =
  "missing: set it to a random string of at least 32 characters (`openssl rand -hex 32`), or set DEMO_MODE=true for local use";

/**
 * Reports a missing OTP_SECRET outside demo mode. It reads the raw variables rather than the
 * parsed config, so the problem is listed together with any other invalid variable.
 */
function missingSecret(input: Record<string, string>): ConfigProblem[] {
  const demo = ["true", "1", "yes"].includes(input.DEMO_MODE ?? "");
  return !demo && input.OTP_SECRET === undefined ? [{ variable: "OTP_SECRET", message: MISSING_SECRET }] : [];
}

export const apiConfigSchema = z.object({
  ...sharedShape,
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: port.default(3000),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt(100, 60_000).default(1500),
  BODY_LIMIT_BYTES: positiveInt(256, 1_048_576).default(8192),
  PHONE_ALLOWED_TYPES: z
    .string()
    .default("MOBILE,FIXED_LINE_OR_MOBILE,VOIP,PERSONAL_NUMBER,UNKNOWN")
    .transform((value) =>
      value
        .split(",")
        .map((type) => type.trim().toUpperCase())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(PHONE_NUMBER_TYPES, { message: `expected a comma-separated list of ${PHONE_NUMBER_TYPES.join(", ")}` }))
        .min(1, "expected at least one number type, such as MOBILE"),
    ),
  ALLOWED_COUNTRIES: countryList.optional(),
  BLOCKED_COUNTRIES: countryList.optional(),
  // --- Security: API keys, limits, geography and spend guard (README, section Security). ---
  // A limit of 0 turns that limit off.
  API_KEYS: apiKeyList.optional(),
  TRUST_PROXY: trustProxy.optional(),
  GEO_MODE: z.enum(["enforce", "monitor"], { message: "expected enforce or monitor" }).default("enforce"),
  RECIPIENT_COOLDOWN_SECONDS: positiveInt(0, 86_400).default(30),
  RECIPIENT_HOURLY_LIMIT: positiveInt(0, 100_000).default(5),
  API_KEY_LIMIT: positiveInt(0, 1_000_000).default(600),
  API_KEY_WINDOW_SECONDS: positiveInt(1, 86_400).default(60),
  NUMBER_RANGE_LIMIT: positiveInt(0, 1_000_000).default(10),
  NUMBER_RANGE_WINDOW_SECONDS: positiveInt(1, 86_400).default(600),
  CLIENT_IP_LIMIT: positiveInt(0, 1_000_000).default(20),
  CLIENT_IP_WINDOW_SECONDS: positiveInt(1, 86_400).default(600),
  SMS_PRICE_PER_SEGMENT: z.string().default("*=0.05").pipe(countryAmounts),
  SPEND_BUDGET_PER_HOUR: z.string().default("*=100").pipe(countryAmounts),
  INVALIDATE_PREVIOUS_CODES: booleanFlag.default(true),
  // --- end of security block ---
  JOB_ATTEMPTS: positiveInt(1, 20).default(5),
  JOB_BACKOFF_MS: positiveInt(100, 600_000).default(2000),
  // Delivery receipts (webhooks). Without PUBLIC_BASE_URL no receipt is requested and the
  // /v1/webhooks/* routes answer 404; a provider whose secret is unset gets 404 too.
  PUBLIC_BASE_URL: publicBaseUrl.optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  PLIVO_AUTH_ID: z.string().min(1).optional(),
  PLIVO_AUTH_TOKEN: z.string().min(1).optional(),
  VONAGE_SIGNATURE_SECRET: z.string().min(1).optional(),
  VONAGE_SIGNATURE_METHOD: z
    .enum(VONAGE_SIGNATURE_METHODS, { message: `expected one of ${VONAGE_SIGNATURE_METHODS.join(", ")}` })
    .default("md5hash"),
});

export const workerConfigSchema = z.object({
  ...sharedShape,
  HOST: z.string().min(1).default("127.0.0.1"),
  METRICS_PORT: port.default(9091),
  WORKER_CONCURRENCY: positiveInt(1, 1000).default(10),
  WORKER_LOCK_DURATION_MS: positiveInt(1000, 600_000).default(30_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt(1000, 600_000).default(10_000),
  JOB_RETENTION_COMPLETED_COUNT: positiveInt(0, 1_000_000).default(1000),
  JOB_RETENTION_FAILED_COUNT: positiveInt(0, 1_000_000).default(5000),
  JOB_RETENTION_SECONDS: positiveInt(60, 30 * 86_400).default(86_400),
  SMS_PROVIDERS: providerList.default(["twilio"]),
  SMS_ROUTES: smsRoutes.optional(),
  PROVIDER_TIMEOUT_MS: positiveInt(100, 60_000).default(5000),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, "expected AC followed by 32 hex characters")
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  TWILIO_FROM: z.string().min(1).optional(),
  TWILIO_API_URL: url(["http:", "https:"]).optional(),
  PLIVO_AUTH_ID: z.string().min(1).optional(),
  PLIVO_AUTH_TOKEN: z.string().min(1).optional(),
  PLIVO_FROM: z.string().min(1).optional(),
  PLIVO_API_URL: url(["http:", "https:"]).optional(),
  VONAGE_API_KEY: z.string().min(1).optional(),
  VONAGE_API_SECRET: z.string().min(1).optional(),
  VONAGE_FROM: z.string().min(1).optional(),
  VONAGE_API_URL: url(["http:", "https:"]).optional(),
  BREAKER_TIMEOUT_MS: positiveInt(100, 120_000).default(10_000),
  BREAKER_ERROR_THRESHOLD_PERCENT: positiveInt(1, 100).default(50),
  BREAKER_VOLUME_THRESHOLD: positiveInt(1, 10_000).default(10),
  BREAKER_RESET_TIMEOUT_MS: positiveInt(100, 3_600_000).default(30_000),
  BREAKER_ROLLING_WINDOW_MS: positiveInt(1000, 3_600_000).default(60_000),
  SMTP_URL: url(["smtp:", "smtps:"]).optional(),
  // An address, or a display name with the address in angle brackets, as nodemailer takes it.
  EMAIL_FROM: z
    .string()
    .regex(
      // A display name with `:`, `;` or `,` must be quoted, or nodemailer reads it as an address group or list.
      /^(?:(?:"[^"\r\n]*"|[^<>@:;,"\r\n]*)\s*<[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@,;:]+@[^\s<>@,;:]+\.[^\s<>@,;:]+)$/,
      'expected a sender address such as otp@example.com or "Acme <otp@example.com>"',
    )
    .optional(),
  SMTP_TIMEOUT_MS: positiveInt(500, 60_000).default(5000),
  // Delivery receipts: callback URLs are `${PUBLIC_BASE_URL}/v1/webhooks/{provider}`; unset means none are requested.
  PUBLIC_BASE_URL: publicBaseUrl.optional(),
});

const WORKER_CREDENTIALS: Record<SmsProviderName, (keyof typeof workerConfigSchema.shape)[]> = {
  twilio: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"],
  plivo: ["PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_FROM"],
  vonage: ["VONAGE_API_KEY", "VONAGE_API_SECRET", "VONAGE_FROM"],
};

/**
 * Checks the worker's rules that combine variables. Each variable is parsed on its own, so these
 * problems are listed together with any other invalid variable. A rule whose inputs are invalid
 * is skipped, because those inputs are reported already.
 */
function workerCrossFieldProblems(input: Record<string, string>): ConfigProblem[] {
  const shape = workerConfigSchema.shape;
  const read = <K extends keyof typeof shape>(name: K): z.output<(typeof shape)[K]> | undefined => {
    const parsed = shape[name].safeParse(input[name]);
    return parsed.success ? (parsed.data as z.output<(typeof shape)[K]>) : undefined;
  };
  const problems: ConfigProblem[] = [];

  const used = new Set<SmsProviderName>(read("SMS_PROVIDERS") ?? []);
  for (const order of Object.values(read("SMS_ROUTES") ?? {})) for (const name of order) used.add(name);
  for (const name of used) {
    for (const variable of WORKER_CREDENTIALS[name]) {
      if (input[variable] === undefined) {
        problems.push({
          variable,
          message: `missing: required because ${name} is listed in SMS_PROVIDERS or SMS_ROUTES; set it or remove ${name}`,
        });
      }
    }
  }
  if (input.SMTP_URL !== undefined && input.EMAIL_FROM === undefined) {
    problems.push({
      variable: "EMAIL_FROM",
      message: "missing: required when SMTP_URL is set; set a sender address such as otp@example.com",
    });
  }
  const providerTimeout = read("PROVIDER_TIMEOUT_MS");
  const breakerTimeout = read("BREAKER_TIMEOUT_MS");
  if (providerTimeout !== undefined && breakerTimeout !== undefined && providerTimeout >= breakerTimeout) {
    problems.push({
      variable: "PROVIDER_TIMEOUT_MS",
      message: `must be shorter than BREAKER_TIMEOUT_MS (${breakerTimeout}) so the provider's own timeout fires first`,
    });
  }
  return problems;
}

export type ApiConfig = Readonly<z.output<typeof apiConfigSchema>> & { readonly OTP_SECRET: string };
export type WorkerConfig = Readonly<z.output<typeof workerConfigSchema>> & { readonly OTP_SECRET: string };

/** Variable names whose values are secrets: never logged. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  "OTP_SECRET",
  "OTP_SECRET_PREVIOUS",
  "TWILIO_AUTH_TOKEN",
  "PLIVO_AUTH_TOKEN",
  "VONAGE_API_SECRET",
  "VONAGE_SIGNATURE_SECRET",
  "SMTP_URL",
  "REDIS_URL",
  "API_KEYS",
]);

function parseWith<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  rawChecks: ((input: Record<string, string>) => ConfigProblem[])[] = [missingSecret],
): z.output<S> {
  // Treat empty and blank variables as unset, as shells and compose files often export `NAME=`.
  const input = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ""),
  );
  const result = schema.safeParse(input);
  const rawProblems = rawChecks.flatMap((check) => check(input));
  if (!result.success || rawProblems.length > 0) {
    const problems = (result.success ? [] : result.error.issues).map((issue) => ({
      variable: String(issue.path[0] ?? "config"),
      message: issue.message,
    }));
    problems.unshift(...rawProblems);
    const lines = problems.map((problem) => `  ${problem.variable}: ${problem.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`, problems);
  }
  const config = result.data as Record<string, unknown>;
  if (config.DEMO_MODE === true && config.OTP_SECRET === undefined) config.OTP_SECRET = DEMO_OTP_SECRET;
  return Object.freeze(config) as z.output<S>;
}

/** Parses the API's environment once at start; throws ConfigError naming each bad variable. */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  return parseWith(apiConfigSchema, env, [missingSecret, missingApiKeys]) as ApiConfig;
}

/** Parses the worker's environment once at start; throws ConfigError naming each bad variable. */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return parseWith(workerConfigSchema, env, [missingSecret, workerCrossFieldProblems]) as WorkerConfig;
}

/** Returns the config with secret values replaced, for the start-up log line. */
export function redactConfig(config: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key, SECRET_VARIABLES.has(key) && value !== undefined ? "[redacted]" : value]),
  );
}
