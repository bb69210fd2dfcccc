import { z } from "zod";
import type { EncryptedPayload } from "./secrets.js";

/** BullMQ queue that carries delivery jobs. */
export const DELIVERY_QUEUE = "otp-delivery";
export const DELIVERY_JOB = "deliver";

/** Plaintext inside the encrypted job payload. Never stored unencrypted. */
export const secretPayloadSchema = z.object({
  to: z.string().regex(/^\+\d{6,15}$/),
  code: z.string().regex(/^\d{4,10}$/),
  email: z.string().optional(),
  locale: z.string().optional(),
});
export type SecretPayload = z.infer<typeof secretPayloadSchema>;

/** Job data as stored in Redis: identifiers, timing and the encrypted payload only. */
export interface DeliveryJobData {
  otpId: string;
  /** ISO 3166 alpha-2 of the destination, for routing; not personal data on its own. */
  country: string | null;
  createdAt: number;
  expiresAt: number;
  payload: EncryptedPayload;
}

export const deliveryJobDataSchema = z.object({
  otpId: z.string(),
  country: z.string().nullable(),
  createdAt: z.number(),
  expiresAt: z.number(),
  payload: z.object({ kid: z.string(), iv: z.string(), tag: z.string(), data: z.string() }),
});
