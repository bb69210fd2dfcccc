import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface HealthServerOptions {
  host: string;
  port: number;
  /** Returns false while the worker is shutting down or its Redis connection is down. */
  isReady: () => boolean;
  registry?: Registry;
}

/** Serves `/healthz`, `/readyz` and `/metrics` for the worker on METRICS_PORT. */
export async function startHealthServer(options: HealthServerOptions): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405, { allow: "GET" }).end();
      return;
    }
    if (path === "/healthz") {
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (path === "/readyz") {
      const ready = options.isReady();
      response
        .writeHead(ready ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: ready ? "ready" : "not_ready" }));
      return;
    }
    if (path === "/metrics" && options.registry) {
      const registry = options.registry;
      registry
        .metrics()
        .then((body) => response.writeHead(200, { "content-type": registry.contentType }).end(body))
        .catch(() => response.writeHead(500).end());
      return;
    }
    response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { server, url: `http://${options.host}:${port}` };
}
