import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type ApiConfig, ConfigError } from "@otpin/core";

/** One accepted key: its name (safe to log) and the SHA-256 of the key (never the key). */
export interface ApiKeyEntry {
  name: string;
  sha256: string;
}

/** A freshly minted key and the `API_KEYS` entry that accepts it. */
export interface MintedApiKey {
  /** The secret to give the calling application; shown once and stored nowhere. */
  key: string;
  /** `name:sha256hex`, for API_KEYS. */
  entry: string;
}

const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** SHA-256 of a key, as hex. Keys are 256 random bits, so an unsalted fast hash is enough. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Mints a random key (`otpin_` and 43 base64url characters) and the API_KEYS entry for it. */
export function mintApiKey(name: string): MintedApiKey {
  if (!KEY_NAME.test(name)) throw new Error("key name must be 1-64 letters, digits, dots, dashes or underscores");
  const key = `otpin_${randomBytes(32).toString("base64url")}`;
  return { key, entry: `${name}:${hashApiKey(key)}` };
}

/** The accepted keys. Looks a presented key up in constant time. */
export class ApiKeyRing {
  private readonly hashes: { name: string; digest: Buffer }[];

  constructor(entries: readonly ApiKeyEntry[]) {
    this.hashes = entries.map((entry) => ({ name: entry.name, digest: Buffer.from(entry.sha256, "hex") }));
  }

  /**
   * Returns the name of the key, or undefined when no entry matches. Every entry is compared,
   * and each comparison takes the same time, so the answer's timing says nothing about the key.
   */
  identify(presented: string): string | undefined {
    const digest = createHash("sha256").update(presented, "utf8").digest();
    let match: string | undefined;
    for (const entry of this.hashes) {
      if (timingSafeEqual(entry.digest, digest) && match === undefined) match = entry.name;
    }
    return match;
  }
}

/**
 * Builds the key ring from API_KEYS. In demo mode without API_KEYS it mints a dev key and writes
 * it once to `write` (stderr), since the caller has no other way to learn it.
 *
 * @throws ConfigError when API_KEYS is unset outside demo mode.
 */
export function resolveApiKeys(
  config: ApiConfig,
  write: (text: string) => void = (text) => process.stderr.write(text),
): ApiKeyRing {
  if (config.API_KEYS !== undefined) return new ApiKeyRing(config.API_KEYS);
  if (!config.DEMO_MODE) {
    const message = "API_KEYS: missing: set name:sha256hex entries from `pnpm --filter @otpin/api mint-key <name>`";
    throw new ConfigError(`invalid configuration:\n  ${message}`, [{ variable: "API_KEYS", message }]);
  }
  const minted = mintApiKey("demo");
  write(
    `WARNING: DEMO_MODE without API_KEYS: minted a development API key for this process only.\n` +
      `  Authorization: Bearer ${minted.key}\n` +
      `  Never run like this in production; set API_KEYS=${minted.entry.split(":")[0]}:<sha256> from the mint-key command.\n`,
  );
  return new ApiKeyRing([{ name: "demo", sha256: minted.entry.split(":")[1] ?? "" }]);
}
