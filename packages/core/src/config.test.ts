import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadApiConfig, loadWorkerConfig, redactConfig } from "./config.js";
import { ConfigError } from "./errors.js";

const SECRET = "s".repeat(32);

function problemsOf(action: () => unknown): Record<string, string> {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return Object.fromEntries(error.problems.map((p) => [p.variable, p.message]));
    throw error;
  }
  return {};
}

// The API requires API_KEYS (name:sha256hex) outside demo mode.
const KEYS = `test:${"0".repeat(64)}`;
// The worker's default provider and the credentials it requires.
const TWILIO = { TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`, TWILIO_AUTH_TOKEN: "t", TWILIO_FROM: "+15005550006" };

describe("loadApiConfig", () => {
  it("applies documented defaults", () => {
    const config = loadApiConfig({ OTP_SECRET: SECRET, API_KEYS: KEYS });
    expect(config.PORT).toBe(3000);
    expect(config.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(config.OTP_TTL_SECONDS).toBe(300);
    expect(config.OTP_LENGTH).toBe(6);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("requires OTP_SECRET outside demo mode", () => {
    expect(problemsOf(() => loadApiConfig({}))).toHaveProperty("OTP_SECRET");
    expect(loadApiConfig({ DEMO_MODE: "true" }).OTP_SECRET.length).toBeGreaterThanOrEqual(32);
  });

  it("names every invalid variable at once", () => {
    const problems = problemsOf(() =>
      loadApiConfig({
        OTP_SECRET: SECRET,
        API_KEYS: KEYS,
        PORT: "abc",
        REDIS_URL: "http://x",
        OTP_LENGTH: "12",
        OTP_TTL_SECONDS: "-1",
      }),
    );
    expect(Object.keys(problems).sort()).toEqual(["OTP_LENGTH", "OTP_TTL_SECONDS", "PORT", "REDIS_URL"]);
    expect(problems.OTP_LENGTH).toMatch(/at most 10/);
  });

  it("lists a missing secret together with other problems", () => {
    expect(Object.keys(problemsOf(() => loadApiConfig({ PORT: "abc" }))).sort()).toEqual(["API_KEYS", "OTP_SECRET", "PORT"]);
  });

  it("rejects a short secret with the fix", () => {
    expect(problemsOf(() => loadApiConfig({ OTP_SECRET: "short" })).OTP_SECRET).toMatch(/openssl rand/);
  });
});

describe("loadWorkerConfig", () => {
  it("requires credentials for each listed provider", () => {
    const problems = problemsOf(() => loadWorkerConfig({ OTP_SECRET: SECRET, SMS_PROVIDERS: "twilio,plivo" }));
    expect(Object.keys(problems).sort()).toEqual([
      "PLIVO_AUTH_ID",
      "PLIVO_AUTH_TOKEN",
      "PLIVO_FROM",
      "TWILIO_ACCOUNT_SID",
      "TWILIO_AUTH_TOKEN",
      "TWILIO_FROM",
    ]);
  });

  it("parses provider order and per-country routes", () => {
    const config = loadWorkerConfig({
      OTP_SECRET: SECRET,
      SMS_PROVIDERS: "vonage, twilio",
      SMS_ROUTES: "in=plivo,twilio;GB=vonage",
      TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
      TWILIO_AUTH_TOKEN: "t",
      TWILIO_FROM: "+15005550006",
      PLIVO_AUTH_ID: "a",
      PLIVO_AUTH_TOKEN: "t",
      PLIVO_FROM: "+15005550006",
      VONAGE_API_KEY: "k",
      VONAGE_API_SECRET: "s",
      VONAGE_FROM: "otpin",
    });
    expect(config.SMS_PROVIDERS).toEqual(["vonage", "twilio"]);
    expect(config.SMS_ROUTES).toEqual({ IN: ["plivo", "twilio"], GB: ["vonage"] });
  });

  it("rejects an unknown provider and a malformed route", () => {
    const problems = problemsOf(() => loadWorkerConfig({ OTP_SECRET: SECRET, SMS_PROVIDERS: "twilio,sinch", SMS_ROUTES: "GB" }));
    expect(problems.SMS_PROVIDERS).toMatch(/twilio, plivo, vonage/);
    expect(problems.SMS_ROUTES).toMatch(/COUNTRY=provider/);
  });

  it("requires EMAIL_FROM with SMTP_URL", () => {
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          DEMO_MODE: "1",
          SMS_PROVIDERS: "twilio",
          TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
          TWILIO_AUTH_TOKEN: "t",
          TWILIO_FROM: "+1",
          SMTP_URL: "smtp://127.0.0.1:25",
        }),
      ),
    ).toHaveProperty("EMAIL_FROM");
  });
});

describe("redactConfig", () => {
  it("hides secrets and keeps the rest", () => {
    const redacted = redactConfig({ OTP_SECRET: SECRET, TWILIO_AUTH_TOKEN: "tok", PORT: 3000 });
    expect(redacted).toEqual({ OTP_SECRET: "[redacted]", TWILIO_AUTH_TOKEN: "[redacted]", PORT: 3000 });
  });
});

describe("loadWorkerConfig cross-variable rules", () => {
  it("lists missing credentials together with another invalid variable", () => {
    const problems = problemsOf(() =>
      loadWorkerConfig({
        OTP_SECRET: SECRET,
        METRICS_PORT: "abc",
        SMTP_URL: "smtp://127.0.0.1:25",
        PROVIDER_TIMEOUT_MS: "20000",
      }),
    );
    expect(Object.keys(problems).sort()).toEqual([
      "EMAIL_FROM",
      "METRICS_PORT",
      "PROVIDER_TIMEOUT_MS",
      "TWILIO_ACCOUNT_SID",
      "TWILIO_AUTH_TOKEN",
      "TWILIO_FROM",
    ]);
  });

  it("skips a rule whose input is itself invalid", () => {
    const problems = problemsOf(() => loadWorkerConfig({ OTP_SECRET: SECRET, SMS_PROVIDERS: "sinch" }));
    expect(Object.keys(problems)).toEqual(["SMS_PROVIDERS"]);
  });

  it("names LOG_LEVEL with the allowed values", () => {
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          OTP_SECRET: SECRET,
          LOG_LEVEL: "verbose",
          TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
          TWILIO_AUTH_TOKEN: "t",
          TWILIO_FROM: "+1",
        }),
      ).LOG_LEVEL,
    ).toMatch(/one of fatal, error/);
  });
});

describe("odd values", () => {
  const apiEnv = (extra: Record<string, string>) => ({ OTP_SECRET: SECRET, API_KEYS: KEYS, ...extra });

  it("treats blank variables as unset", () => {
    const config = loadApiConfig(
      apiEnv({ RECIPIENT_HOURLY_LIMIT: " ", RECIPIENT_COOLDOWN_SECONDS: "\t", ALLOWED_COUNTRIES: "  " }),
    );
    expect(config.RECIPIENT_HOURLY_LIMIT).toBe(5);
    expect(config.RECIPIENT_COOLDOWN_SECONDS).toBe(30);
    expect(config.ALLOWED_COUNTRIES).toBeUndefined();
  });

  it.each(["0x10", "1e3", "1.5", "-1", "+5", "Infinity", "5 5", "٣"])("rejects %s as a number, naming the variable", (value) => {
    const problems = problemsOf(() => loadApiConfig(apiEnv({ RECIPIENT_HOURLY_LIMIT: value, PORT: value })));
    expect(Object.keys(problems).sort()).toEqual(["PORT", "RECIPIENT_HOURLY_LIMIT"]);
    expect(problems.RECIPIENT_HOURLY_LIMIT).toBe("expected a whole number from 0 to 100000 in decimal digits");
  });

  it("reads any decimal number within the range as itself, with spaces around it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom("", " ", "\t"), (limit, pad) => {
        expect(loadApiConfig(apiEnv({ RECIPIENT_HOURLY_LIMIT: `${pad}${limit}${pad}` })).RECIPIENT_HOURLY_LIMIT).toBe(limit);
      }),
    );
  });

  it("rejects any text that is not plain decimal digits", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((text) => text.trim() !== "" && !/^\s*\d+\s*$/.test(text)),
        (text) => {
          expect(Object.keys(problemsOf(() => loadApiConfig(apiEnv({ PORT: text }))))).toEqual(["PORT"]);
        },
      ),
    );
  });

  it.each(["abc", "[1]", "1e400", "10.0.0.0/33", "::1/129", "10.0.0.1/8/1", "99999999999999999999"])(
    "rejects TRUST_PROXY=%j by name",
    (value) => {
      const problems = problemsOf(() => loadApiConfig(apiEnv({ TRUST_PROXY: `${value},10.0.0.1` })));
      expect(Object.keys(problems)).toEqual(["TRUST_PROXY"]);
    },
  );

  it("reads TRUST_PROXY as a flag, a hop count, or addresses and ranges", () => {
    expect(loadApiConfig(apiEnv({ TRUST_PROXY: "true" })).TRUST_PROXY).toBe(true);
    expect(loadApiConfig(apiEnv({ TRUST_PROXY: "2" })).TRUST_PROXY).toBe(2);
    expect(loadApiConfig(apiEnv({ TRUST_PROXY: " 10.0.0.0/8, ::1 ,loopback" })).TRUST_PROXY).toBe("10.0.0.0/8,::1,loopback");
  });

  it.each(["abc", "-1", "0x10", "[1]", "1.5", "http://", "https://u:p@otp.example.com", "https://otp.example.com/?a=1"])(
    "rejects PUBLIC_BASE_URL=%j by name, without throwing anything else",
    (value) => {
      expect(Object.keys(problemsOf(() => loadApiConfig(apiEnv({ PUBLIC_BASE_URL: value }))))).toEqual(["PUBLIC_BASE_URL"]);
      // The worker also lists the Twilio credentials it misses; what matters is that it names this variable.
      expect(problemsOf(() => loadWorkerConfig({ OTP_SECRET: SECRET, PUBLIC_BASE_URL: value })).PUBLIC_BASE_URL).toMatch(
        /^expected a (base )?URL/,
      );
    },
  );

  it("rejects unknown and repeated route countries", () => {
    const env = { OTP_SECRET: SECRET, SMS_PROVIDERS: "twilio,plivo" };
    expect(problemsOf(() => loadWorkerConfig({ ...env, SMS_ROUTES: "UK=twilio" })).SMS_ROUTES).toMatch(/UK is not an ISO 3166/);
    expect(problemsOf(() => loadWorkerConfig({ ...env, SMS_ROUTES: "GB=twilio;gb=plivo" })).SMS_ROUTES).toBe(
      "GB has two routes; keep one",
    );
  });

  it.each([
    "abc",
    "otp@",
    "@example.com",
    "otp@example",
    "Acme <otp@example.com",
    "a b@example.com",
    "Acme: <otp@example.com>",
    "Acme, Inc. <otp@example.com>",
    "a@example.com,b@example.com",
  ])("rejects EMAIL_FROM=%j by name", (value) => {
    const env = { OTP_SECRET: SECRET, ...TWILIO, SMTP_URL: "smtp://127.0.0.1:2525", EMAIL_FROM: value };
    expect(Object.keys(problemsOf(() => loadWorkerConfig(env)))).toEqual(["EMAIL_FROM"]);
  });

  it.each(["otp@example.com", "Acme <otp@example.com>", '"Acme, Inc." <otp@mail.example.co.uk>'])(
    "accepts EMAIL_FROM=%j",
    (value) => {
      const env = { OTP_SECRET: SECRET, ...TWILIO, SMTP_URL: "smtp://127.0.0.1:2525", EMAIL_FROM: value };
      expect(loadWorkerConfig(env).EMAIL_FROM).toBe(value);
    },
  );

  it.each(["LOOPBACK", "Loopback", "10.0.0.0/8,LinkLocal"])("passes TRUST_PROXY=%j to fastify in lower case", (value) => {
    expect(loadApiConfig(apiEnv({ TRUST_PROXY: value })).TRUST_PROXY).toBe(value.toLowerCase());
  });

  it.each(["0.0.0.0/0", "::/0", "fe80::1%eth0"])("rejects TRUST_PROXY=%j, which proxy-addr cannot use", (value) => {
    expect(Object.keys(problemsOf(() => loadApiConfig(apiEnv({ TRUST_PROXY: value }))))).toEqual(["TRUST_PROXY"]);
  });

  it.each([
    ["http:127.0.0.1:17202", "http://127.0.0.1:17202"],
    ["HTTPS://OTP.Example.com:443/", "https://otp.example.com"],
    ["https://otp.example.com/otpin//", "https://otp.example.com/otpin"],
  ])("normalises PUBLIC_BASE_URL=%j to %j", (value, normalised) => {
    expect(loadApiConfig(apiEnv({ PUBLIC_BASE_URL: value })).PUBLIC_BASE_URL).toBe(normalised);
  });

  it.each(["/abc", "/%zz", "/16", "/-1", "/1/2", "?db=abc", "/?db=99", "?db=-1", "/1?db=2", "?db=1&db=2"])(
    "rejects a REDIS_URL database %j",
    (path) => {
      const problems = problemsOf(() => loadApiConfig(apiEnv({ REDIS_URL: `redis://127.0.0.1:6379${path}` })));
      expect(problems.REDIS_URL).toMatch(/database once, as a number from 0 to 15/);
    },
  );

  it.each(["", "/", "/0", "/15", "?db=5", "/?db=15", "?family=6"])("accepts a REDIS_URL database %j", (path) => {
    expect(loadApiConfig(apiEnv({ REDIS_URL: `redis://127.0.0.1:6379${path}` })).REDIS_URL).toBe(`redis://127.0.0.1:6379${path}`);
  });

  it.each([
    ["ALLOWED_COUNTRIES", "US,UK", /UK is not an ISO 3166/],
    ["BLOCKED_COUNTRIES", "ZZ", /ZZ is not an ISO 3166/],
    ["BLOCKED_COUNTRIES", "GB,gb", /GB is listed twice/],
    ["SMS_PRICE_PER_SEGMENT", "UK=0.04", /UK is not an ISO 3166/],
    ["SPEND_BUDGET_PER_HOUR", "GB=1,GB=2", /GB is listed twice/],
    ["SPEND_BUDGET_PER_HOUR", "*=1,*=2", /\* is listed twice/],
  ])("rejects %s=%j by name", (variable, value, message) => {
    const problems = problemsOf(() => loadApiConfig(apiEnv({ [variable]: value })));
    expect(Object.keys(problems)).toEqual([variable]);
    expect(problems[variable]).toMatch(message);
  });

  it.each([
    ["SMTP_URL", "smtp://"],
    ["REDIS_URL", "redis://"],
  ])("rejects %s=%j without a host", (variable, value) => {
    const env = { OTP_SECRET: SECRET, ...TWILIO, EMAIL_FROM: "otp@example.com", [variable]: value };
    expect(problemsOf(() => loadWorkerConfig(env))[variable]).toMatch(/and a host$/);
  });
});
