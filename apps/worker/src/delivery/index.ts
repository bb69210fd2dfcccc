export * from "./breaker-open-error.js";
export * from "./breaker-settings.js";
export * from "./delivery-chain.js";
export * from "./delivery-observer.js";
export * from "./failure-reason.js";
export * from "./provider-breakers.js";
export * from "./to-delivery-error.js";
