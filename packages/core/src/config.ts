import { z } from "zod";
import { ConfigError } from "./errors.js";

/** Development-only secret used in demo mode, so the quick start needs no configuration. */
export const DEMO_OTP_SECRET = "otpin-demo-secret-do-not-use-in-production";

const SMS_PROVIDER_NAMES = ["twilio", "plivo", "vonage"] as const;
export type SmsProviderName = (typeof SMS_PROVIDER_NAMES)[number];

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
  .transform((value) => value === "true" || value === "1" || value === "yes");

const port = z.coerce
  .number({ message: "expected a port number" })
  .int("expected a whole number")
  .min(0, "expected 0-65535")
  .max(65535, "expected 0-65535");

const positiveInt = (min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: "expected a number" })
    .int("expected a whole number")
    .min(min, `expected at least ${min}`)
    .max(max, `expected at most ${max}`);

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((protocol) => `${protocol}//`).join(" or ")}` },
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
    routes[match[1]!.toUpperCase()] = parsed.data;
  }
  return routes;
});

const countryList = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((code) => code.trim().toUpperCase())
      .filter((code) => code !== ""),
  )
  .pipe(z.array(z.string().regex(/^[A-Z]{2}$/, "expected ISO 3166 alpha-2 country codes such as US,GB")));

/** Variables read by both the API and the worker. */
const sharedShape = {
  NODE_ENV: z.string().default("production"),
  DEMO_MODE: booleanFlag.default(false),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  REDIS_URL: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
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

const MISSING_SECRET =
  "missing: set it to a random string of at least 32 characters (`openssl rand -hex 32`), or set DEMO_MODE=true for local use";

/**
 * Reports a missing OTP_SECRET outside demo mode. It reads the raw variables rather than the
 * parsed config, so the problem is listed together with any other invalid variable.
 */
function missingSecret(input: Record<string, string>): { variable: string; message: string } | undefined {
  const demo = ["true", "1", "yes"].includes(input.DEMO_MODE ?? "");
  return !demo && input.OTP_SECRET === undefined ? { variable: "OTP_SECRET", message: MISSING_SECRET } : undefined;
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
    ),
  ALLOWED_COUNTRIES: countryList.optional(),
  BLOCKED_COUNTRIES: countryList.optional(),
  JOB_ATTEMPTS: positiveInt(1, 20).default(5),
  JOB_BACKOFF_MS: positiveInt(100, 600_000).default(2000),
});

export const workerConfigSchema = z
  .object({
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
    EMAIL_FROM: z.string().min(3).optional(),
    SMTP_TIMEOUT_MS: positiveInt(500, 60_000).default(5000),
  })
  .superRefine((config, context) => {
    const required: Record<SmsProviderName, (keyof typeof config)[]> = {
      twilio: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"],
      plivo: ["PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_FROM"],
      vonage: ["VONAGE_API_KEY", "VONAGE_API_SECRET", "VONAGE_FROM"],
    };
    const used = new Set<SmsProviderName>(config.SMS_PROVIDERS);
    for (const order of Object.values(config.SMS_ROUTES ?? {})) for (const name of order) used.add(name);
    for (const name of used) {
      for (const variable of required[name]) {
        if (config[variable] === undefined) {
          context.addIssue({
            code: "custom",
            path: [variable],
            message: `missing: required because ${name} is listed in SMS_PROVIDERS or SMS_ROUTES; set it or remove ${name}`,
          });
        }
      }
    }
    if (config.SMTP_URL !== undefined && config.EMAIL_FROM === undefined) {
      context.addIssue({
        code: "custom",
        path: ["EMAIL_FROM"],
        message: "missing: required when SMTP_URL is set; set a sender address such as otp@example.com",
      });
    }
    if (config.PROVIDER_TIMEOUT_MS >= config.BREAKER_TIMEOUT_MS) {
      context.addIssue({
        code: "custom",
        path: ["PROVIDER_TIMEOUT_MS"],
        message: `must be shorter than BREAKER_TIMEOUT_MS (${config.BREAKER_TIMEOUT_MS}) so the provider's own timeout fires first`,
      });
    }
  });

export type ApiConfig = Readonly<z.output<typeof apiConfigSchema>> & { readonly OTP_SECRET: string };
export type WorkerConfig = Readonly<z.output<typeof workerConfigSchema>> & { readonly OTP_SECRET: string };

/** Variable names whose values are secrets: never logged. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  "OTP_SECRET",
  "OTP_SECRET_PREVIOUS",
  "TWILIO_AUTH_TOKEN",
  "PLIVO_AUTH_TOKEN",
  "VONAGE_API_SECRET",
  "SMTP_URL",
  "REDIS_URL",
  "API_KEYS",
]);

function parseWith<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  // Treat empty variables as unset, as shells and compose files often export `NAME=`.
  const input = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""),
  );
  const result = schema.safeParse(input);
  const secretProblem = missingSecret(input);
  if (!result.success || secretProblem !== undefined) {
    const problems = (result.success ? [] : result.error.issues).map((issue) => ({
      variable: String(issue.path[0] ?? "config"),
      message: issue.message,
    }));
    if (secretProblem !== undefined) problems.unshift(secretProblem);
    const lines = problems.map((problem) => `  ${problem.variable}: ${problem.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`, problems);
  }
  const config = result.data as Record<string, unknown>;
  if (config.DEMO_MODE === true && config.OTP_SECRET === undefined) config.OTP_SECRET = DEMO_OTP_SECRET;
  return Object.freeze(config) as z.output<S>;
}

/** Parses the API's environment once at start; throws ConfigError naming each bad variable. */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  return parseWith(apiConfigSchema, env) as ApiConfig;
}

/** Parses the worker's environment once at start; throws ConfigError naming each bad variable. */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return parseWith(workerConfigSchema, env) as WorkerConfig;
}

/** Returns the config with secret values replaced, for the start-up log line. */
export function redactConfig(config: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key, SECRET_VARIABLES.has(key) && value !== undefined ? "[redacted]" : value]),
  );
}
