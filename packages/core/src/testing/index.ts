export * from "./codes.js";
export * from "./redis-dump.js";
