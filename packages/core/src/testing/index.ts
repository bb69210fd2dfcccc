export * from "./redis-dump.js";
