import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/**
 * Writes one line per completed request: method, route, status and time, never headers or
 * bodies (which carry phone numbers and codes). 5xx responses log at error, the rest at info.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = {
      method: request.method,
      // The route pattern keeps ids and typos out of the line, so lines group by route.
      route: request.routeOptions.url ?? "unmatched",
      statusCode: reply.statusCode,
      responseTimeMs: Math.round(reply.elapsedTime),
    };
    if (error) reply.log.error({ ...fields, err: error }, "request errored");
    else if (reply.statusCode >= 500) reply.log.error(fields, "request completed");
    else reply.log.info(fields, "request completed");
  }

  override routeNotFound(): void {}

  override defaultErrorLog(): void {}
}
