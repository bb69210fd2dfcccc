import type { ServerResponse } from "node:http";

/** Writes a JSON response, unless the client has gone away. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed || response.writableEnded) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export function sendHtml(response: ServerResponse, status: number, html: string): void {
  if (response.destroyed || response.writableEnded) return;
  response.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(html),
    "cache-control": "no-store",
  });
  response.end(html);
}

export function sendNoContent(response: ServerResponse): void {
  if (response.destroyed || response.writableEnded) return;
  response.writeHead(204);
  response.end();
}
