export * from "./create-providers.js";
export * from "./delivery-failure.js";
export * from "./email.channel.js";
export * from "./plivo.provider.js";
export * from "./twilio.provider.js";
export type * from "./types.js";
export * from "./vonage.provider.js";
