export * from "./delivery/index.js";
export * from "./delivery-processor.js";
export * from "./delivery-worker.js";
export * from "./health-server.js";
export * from "./worker-app.js";
