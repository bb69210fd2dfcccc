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
  type NewOtpRecord,
  NotDeliveredError,
  NotFoundError,
  newOtpId,
  normalizePhone,
  type OtpRecord,
  type OtpStatus,
  OtpStore,
  type PayloadCipher,
  type SecretPayload,
  ValidationError,
  type VerifyResult,
} from "@otpin/core";
import type { Redis } from "ioredis";
import type { DeliveryQueue } from "./delivery-queue.js";
import { throwIfAborted, waitForConnection, withRedisDeadline } from "./redis-guard.js";
import type { SendOtpBody } from "./schemas.js";

export interface OtpServiceOptions {
  config: ApiConfig;
  redis: Redis;
  queue: DeliveryQueue;
  logger: Logger;
  /** Current time in epoch milliseconds. Tests pass a fake clock to reach expiry. */
  clock: () => number;
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
   * @throws ValidationError for an unusable number; UnavailableError when Redis does not
   *   confirm within REDIS_COMMAND_TIMEOUT_MS, after which the record and job are removed.
   */
  async create(input: SendOtpBody): Promise<CreatedOtp> {
    const { config, clock } = this.options;
    const phone = normalizePhone(input.to, input.country, config.PHONE_ALLOWED_TYPES);
    const country = phone.country ?? input.country ?? null;
    this.checkCountryPolicy(country);

    const id = newOtpId();
    const code = generateCode(config.OTP_LENGTH);
    const createdAt = clock();
    const expiresAt = createdAt + config.OTP_TTL_SECONDS * 1000;
    const secret: SecretPayload = { to: phone.e164, code, email: input.email, locale: input.locale };
    const job: DeliveryJobData = { otpId: id, country, createdAt, expiresAt, payload: this.cipher.encrypt(secret, id) };

    await this.persistAndEnqueue(
      {
        id,
        maskedTo: maskPhone(phone.e164),
        country,
        codeHash: hashCode(this.codeHashKey, id, code),
        createdAt,
        expiresAt,
        maxVerifyAttempts: config.OTP_MAX_VERIFY_ATTEMPTS,
      },
      job,
    );
    this.options.logger.info({ otpId: id, maskedTo: maskPhone(phone.e164), country }, "verification queued");
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
    if (record.status === "failed") {
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

  private checkCountryPolicy(country: string | null): void {
    const { ALLOWED_COUNTRIES: allowed, BLOCKED_COUNTRIES: blocked } = this.options.config;
    if (allowed !== undefined && (country === null || !allowed.includes(country))) {
      throw new ValidationError(
        `to is a number in ${country ?? "an unknown country"}, which this service does not send to; use a number in ${allowed.join(", ")}`,
        {
          field: "to",
        },
      );
    }
    if (blocked !== undefined && country !== null && blocked.includes(country)) {
      throw new ValidationError(
        `to is a number in ${country}, which this service does not send to; use a number in another country`,
        {
          field: "to",
        },
      );
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
  };
}
