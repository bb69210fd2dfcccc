import { randomBytes } from "node:crypto";

const OTP_ID = /^otp_[0-9a-f]{24}$/;

/** Creates a verification id: `otp_` and 96 random bits in hex. */
export function newOtpId(): string {
  return `otp_${randomBytes(12).toString("hex")}`;
}

export function isOtpId(value: string): boolean {
  return OTP_ID.test(value);
}
