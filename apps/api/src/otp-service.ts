import {
  type ApiConfig,
  createPayloadCipher,
  type DeliveryJobData,
  deriveKeys,
  generateCode,
  hashCode,
  isOtpId,
  type Logger,
  maskPhone,
  mayHaveBeenDelivered,
  type NewOtpRecord,
  NotDeliveredError,
  NotFoundError,
  newOtpId,
  normalizePhone,
  type OtpRecord,
  type OtpStatus,
  OtpStore,
  type PayloadCipher,
  RECORD_RETENTION_MS,
  type SecretPayload,
  type VerifyResult,
} from "@otpin/core";
import type { Redis } from "ioredis";
import type { DeliveryQueue } from "./delivery-queue.js";
import { throwIfAborted, waitForConnection, withRedisDeadline } from "./redis-guard.js";
import type { SendOtpBody } from "./schemas.js";
import type { Admission, SendGuard } from "./security/send-guard.js";

export interface OtpServiceOptions {
  config: ApiConfig;
  redis: Redis;
  queue: DeliveryQueue;
  logger: Logger;
  /** Current time in epoch milliseconds. Tests pass a fake clock to reach expiry. */
  clock: () => number;
  /** Time the send guard's windows and budgets count in; Redis's clock outside tests. */
  limitClock: () => number | Promise<number>;
  /** Geography, rate limits and spend budget every send must pass before it is stored. */
  guard: SendGuard;
}

/** Who asked for a send: the API key's name and the end user's address. */
export interface SendContext {
  apiKeyName: string;
  clientIp: string | undefined;
}

/** Result of `POST /v1/otp`. */
export interface CreatedOtp {
  id: string;
  status: "queued";
  expiresAt: string;
}

/** Public view of a verification for `GET /v1/otp/:id`: no code, hash or full number. */
export interface OtpStatusView {
  id: string;
  status: OtpStatus;
  channel: string;
  to: string;
  attempts: {
    provider: string;
    outcome: string;
    errorClass?: string;
    errorCode?: string;
    messageId?: string;
    latencyMs: number;
    at: string;
  }[];
  createdAt: string;
  expiresAt: string;
  reason?: string;
  /** Carrier verdict from delivery receipts, once a provider accepted the SMS. */
  delivery?: { status: "submitted" | "delivered" | "undelivered"; errorCode?: string; at: string };
}

/** Creates verifications and enqueues their delivery, checks codes, and reports status. */
export class OtpService {
  private readonly store: OtpStore;
  private readonly cipher: PayloadCipher;
  private readonly codeHashKey: Buffer;

  constructor(private readonly options: OtpServiceOptions) {
    const { config, redis } = options;
    this.store = new OtpStore(redis, config.QUEUE_PREFIX);
    this.cipher = createPayloadCipher(config.OTP_SECRET, config.OTP_SECRET_PREVIOUS);
    this.codeHashKey = deriveKeys(config.OTP_SECRET).codeHashKey;
  }

  /**
   * Validates the destination, stores the verification and enqueues its delivery job. Returns
   * only after Redis confirmed the job.
   *
   * @throws ValidationError for an unusable number; CountryBlockedError or RateLimitedError from
   *   the send guard, before anything is stored; UnavailableError when Redis does not
   *   confirm within REDIS_COMMAND_TIMEOUT_MS, after which the record and job are removed.
   */
  async create(input: SendOtpBody, context: SendContext = { apiKeyName: "", clientIp: undefined }): Promise<CreatedOtp> {
    const { config, clock } = this.options;
    const phone = normalizePhone(input.to, input.country, config.PHONE_ALLOWED_TYPES);
    const country = phone.country ?? null;

    const id = newOtpId();
    const code = generateCode(config.OTP_LENGTH);
    const createdAt = clock();
    const admission = await withRedisDeadline(config.REDIS_COMMAND_TIMEOUT_MS, "checking the send limits", async (signal) => {
      await waitForConnection(this.options.redis, signal);
      const now = await this.options.limitClock();
      return this.options.guard.admit({ id, e164: phone.e164, country, ...context, now });
    });
    const expiresAt = createdAt + config.OTP_TTL_SECONDS * 1000;
    const secret: SecretPayload = { to: phone.e164, code, email: input.email, locale: input.locale };
    const job: DeliveryJobData = { otpId: id, country, createdAt, expiresAt, payload: this.cipher.encrypt(secret, id) };

    try {
      await this.persistAndEnqueue(
        {
          id,
          maskedTo: maskPhone(phone.e164),
          country,
          codeHash: hashCode(this.codeHashKey, id, code),
          createdAt,
          expiresAt,
          maxVerifyAttempts: config.OTP_MAX_VERIFY_ATTEMPTS,
          // Ciphertext only: a delivery receipt can then re-send the same code without the API decrypting it.
          payload: job.payload,
        },
        job,
      );
    } catch (error) {
      this.releaseAdmission(admission);
      throw error;
    }
    if (config.INVALIDATE_PREVIOUS_CODES) await this.supersedePrevious(phone.e164, id, expiresAt);
    this.options.logger.info(
      { otpId: id, maskedTo: maskPhone(phone.e164), country, apiKeyName: context.apiKeyName },
      "verification queued",
    );
    return { id, status: "queued", expiresAt: new Date(expiresAt).toISOString() };
  }

  private async persistAndEnqueue(record: NewOtpRecord, job: DeliveryJobData): Promise<void> {
    const operationName = "creating the verification";
    let written = false;
    try {
      await withRedisDeadline(this.options.config.REDIS_COMMAND_TIMEOUT_MS, operationName, async (signal) => {
        await waitForConnection(this.options.redis, signal);
        throwIfAborted(signal, operationName);
        written = true;
        await this.store.create(record);
        throwIfAborted(signal, operationName);
        await this.options.queue.waitUntilReady();
        // The deadline may have passed while BullMQ waited for its connection, and then the caller already has its 503.
        throwIfAborted(signal, operationName);
        await this.options.queue.add(job);
      });
    } catch (error) {
      // The error handler logs the failure itself. Only a written record needs more work here.
      if (written) this.removeAbandoned(record.id, error);
      throw error;
    }
  }

  /**
   * Checks a submitted code. The code must already have the configured length.
   *
   * @throws NotFoundError, ExpiredError, AlreadyVerifiedError, LockedError, NotDeliveredError or UnavailableError.
   */
  async verify(id: string, code: string): Promise<VerifyResult> {
    const record = await this.getRecord(id);
    // A code that may have reached a provider before its delivery failed is still checked.
    if (record.status === "failed" && !mayHaveBeenDelivered(record)) {
      throw new NotDeliveredError(`verification ${id} was never delivered, so its code cannot be checked; request a new code`);
    }
    const result = await withRedisDeadline(this.options.config.REDIS_COMMAND_TIMEOUT_MS, "verifying the code", () =>
      this.store.verify(id, code, this.codeHashKey, this.options.clock()),
    );
    this.options.logger.info({ otpId: id, valid: result.valid }, "code checked");
    return result;
  }

  /** @throws NotFoundError or UnavailableError. */
  async status(id: string): Promise<OtpStatusView> {
    return toStatusView(await this.getRecord(id));
  }

  private async getRecord(id: string): Promise<OtpRecord> {
    requireOtpId(id);
    const record = await withRedisDeadline(
      this.options.config.REDIS_COMMAND_TIMEOUT_MS,
      "reading the verification",
      async (signal) => {
        await waitForConnection(this.options.redis, signal);
        return this.store.get(id, this.options.clock());
      },
    );
    if (record === undefined)
      throw new NotFoundError(`verification ${id} was not found; records are removed an hour after they expire`);
    return record;
  }

  /** Gives back the limits a send took when it was not enqueued; a failure only costs the caller some quota. */
  private releaseAdmission(admission: Admission): void {
    this.options.guard.release(admission).catch((error: unknown) => {
      this.options.logger.warn({ otpId: admission.id, err: error }, "releasing the limits of an unqueued verification failed");
    });
  }

  /**
   * Makes this verification the recipient's newest, so the code of an older one stops verifying.
   * The new job is already queued, so a failure here is logged rather than failing the request.
   */
  private async supersedePrevious(e164: string, id: string, expiresAt: number): Promise<void> {
    try {
      await withRedisDeadline(this.options.config.REDIS_COMMAND_TIMEOUT_MS, "superseding the previous code", () =>
        this.store.supersedePrevious(this.options.guard.recipientHash(e164), id, expiresAt + RECORD_RETENTION_MS),
      );
    } catch (error) {
      this.options.logger.warn({ otpId: id, err: error }, "previous code of this recipient not invalidated");
    }
  }

  /** Best-effort removal after a failed create, so nothing from an outage is delivered later. */
  private removeAbandoned(id: string, cause: unknown): void {
    const { logger } = this.options;
    logger.warn({ otpId: id, err: cause }, "verification not queued; removing its record");
    Promise.allSettled([this.store.delete(id), this.options.queue.remove(id)]).then(([record, job]) => {
      const failure = [record, job].find((outcome) => outcome.status === "rejected");
      if (failure?.status === "rejected")
        logger.warn({ otpId: id, err: failure.reason }, "removing an unqueued verification failed");
    });
  }
}

/** @throws NotFoundError when `id` is not a verification id, so a malformed id gets the same 404 as an unknown one. */
export function requireOtpId(id: string): void {
  if (!isOtpId(id)) throw new NotFoundError("verification not found: ids look like otp_ followed by 24 hex digits");
}

function toStatusView(record: OtpRecord): OtpStatusView {
  return {
    id: record.id,
    status: record.status,
    channel: record.channel,
    to: record.to,
    attempts: record.attempts.map((attempt) => ({
      provider: attempt.provider,
      outcome: attempt.outcome,
      ...(attempt.errorClass === undefined ? {} : { errorClass: attempt.errorClass }),
      ...(attempt.errorCode === undefined ? {} : { errorCode: attempt.errorCode }),
      ...(attempt.messageId === undefined ? {} : { messageId: attempt.messageId }),
      latencyMs: attempt.latencyMs,
      at: attempt.at,
    })),
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    ...(record.delivery === undefined ? {} : { delivery: toDeliveryView(record.delivery) }),
  };
}

function toDeliveryView(delivery: NonNullable<OtpRecord["delivery"]>): NonNullable<OtpStatusView["delivery"]> {
  return {
    status: delivery.status,
    ...(delivery.errorCode === undefined ? {} : { errorCode: delivery.errorCode }),
    at: new Date(delivery.at).toISOString(),
  };
}
