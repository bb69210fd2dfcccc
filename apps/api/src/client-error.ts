import type { Socket } from "node:net";
import { errorBody } from "./error-handler.js";

/**
 * Responds to requests that Node's HTTP parser rejects (malformed request line or headers, headers
 * over the size limit) in the API's error shape. They never reach fastify's routes or error handler.
 */
export function handleClientError(error: Error, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy(error);
    return;
  }
  const tooLarge = (error as { code?: string }).code === "HPE_HEADER_OVERFLOW";
  const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
  const body = JSON.stringify(
    tooLarge
      ? errorBody("OTP_ERR_BODY_TOO_LARGE", "request line and headers are too large; send a shorter URL and fewer headers")
      : errorBody("OTP_ERR_VALIDATION", "malformed HTTP request; check the request line and headers"),
  );
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
