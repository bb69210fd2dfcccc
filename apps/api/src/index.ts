export { type BuildApiOptions, buildApi } from "./app.js";
export type { ApiErrorCode, ErrorBody } from "./error-handler.js";
export type { CreatedOtp, OtpStatusView } from "./otp-service.js";
export type { ReceiptEvents, ReceiptOutcome } from "./webhooks/receipt-events.js";
