export * from "./labels.js";
export * from "./observer-fanout.js";
export * from "./queue-gauges.js";
export * from "./worker-metrics.js";
export * from "./worker-telemetry.js";
