import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { errorBody } from "../error-handler.js";
import { withRedisDeadline } from "../redis-guard.js";

export interface HealthRoutesOptions {
  redis: Redis;
  /** How long `GET /readyz` waits for PING, in milliseconds. */
  timeoutMs: number;
}

/** Registers `GET /healthz` (the process is up) and `GET /readyz` (Redis replies to PING in time). */
export async function healthRoutes(app: FastifyInstance, { redis, timeoutMs }: HealthRoutesOptions): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    try {
      // No waiting for a reconnect here: a connection that is not ready makes the API not ready.
      await withRedisDeadline(timeoutMs, "Redis PING", () => redis.ping());
      return { status: "ok" };
    } catch (error) {
      // Debug only: probes repeat every few seconds, and the connection watcher logs each outage once.
      request.log.debug({ err: error }, "readiness check failed");
      return reply
        .code(503)
        .send(
          errorBody(
            "OTP_ERR_UNAVAILABLE",
            "Redis did not reply to PING in time, so the API cannot accept requests; check REDIS_URL and that Redis is running",
          ),
        );
    }
  });
}
