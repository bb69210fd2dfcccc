import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import { PayloadError } from "./errors.js";

/** Keys derived from one OTP_SECRET with HKDF-SHA256, one per purpose. */
export interface KeySet {
  /** Short public id of the encryption key, stored beside each ciphertext for rotation. */
  keyId: string;
  encryptionKey: Buffer;
  codeHashKey: Buffer;
  /** Key for hashing phone numbers into Redis key names (limits, indexes). */
  lookupKey: Buffer;
}

export function deriveKeys(secret: string): KeySet {
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", secret, "otpin/v1", info, 32));
  const encryptionKey = derive("payload-encryption");
  return {
    keyId: createHash("sha256").update(encryptionKey).digest("hex").slice(0, 8),
    encryptionKey,
    codeHashKey: derive("code-hash"),
    lookupKey: derive("lookup-hash"),
  };
}

/** AES-256-GCM ciphertext as stored in job data; every field is base64. */
export interface EncryptedPayload {
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

/**
 * Encrypts and decrypts job payloads. The current key encrypts; the current and previous keys
 * (OTP_SECRET and OTP_SECRET_PREVIOUS) decrypt, so jobs queued before a rotation still run.
 */
export class PayloadCipher {
  private readonly keysById: Map<string, Buffer>;

  constructor(
    private readonly current: KeySet,
    previous: readonly KeySet[] = [],
  ) {
    this.keysById = new Map([current, ...previous].map((keys) => [keys.keyId, keys.encryptionKey]));
  }

  encrypt(value: unknown, associatedData: string): EncryptedPayload {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.current.encryptionKey, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return {
      kid: this.current.keyId,
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
      data: data.toString("base64"),
    };
  }

  /** @throws PayloadError when the key id is unknown or the ciphertext fails authentication. */
  decrypt(payload: EncryptedPayload, associatedData: string): unknown {
    const key = this.keysById.get(payload.kid);
    if (key === undefined) {
      throw new PayloadError(`payload key id ${payload.kid} matches neither OTP_SECRET nor OTP_SECRET_PREVIOUS`);
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(payload.iv, "base64"));
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(Buffer.from(payload.tag, "base64"));
      const text = Buffer.concat([decipher.update(Buffer.from(payload.data, "base64")), decipher.final()]).toString("utf8");
      return JSON.parse(text);
    } catch (error) {
      throw new PayloadError("payload failed authentication or is not valid JSON", { cause: error });
    }
  }
}

export function createPayloadCipher(secret: string, previousSecret?: string): PayloadCipher {
  return new PayloadCipher(deriveKeys(secret), previousSecret ? [deriveKeys(previousSecret)] : []);
}
