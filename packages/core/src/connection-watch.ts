import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * Logs Redis connection loss and recovery once per transition, not once per reconnect attempt.
 * Also gives the connection an `error` listener, without which ioredis prints every error itself.
 * Returns a function that removes the listeners.
 */
export function watchConnection(redis: Redis, logger: Logger): () => void {
  let connected = redis.status === "ready";
  let failures = 0;

  const onError = (error: Error) => {
    failures += 1;
    if (failures === 1) logger.warn({ err: error }, "redis connection failed");
  };
  const onReady = () => {
    if (!connected || failures > 0) logger.info({ failedAttempts: failures }, "redis connection ready");
    connected = true;
    failures = 0;
  };
  const onClose = () => {
    if (connected) logger.warn("redis connection closed");
    connected = false;
  };

  redis.on("error", onError);
  redis.on("ready", onReady);
  redis.on("close", onClose);
  return () => {
    redis.off("error", onError);
    redis.off("ready", onReady);
    redis.off("close", onClose);
  };
}
