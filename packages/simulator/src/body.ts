import type { IncomingMessage } from "node:http";

/** Largest request body the simulator reads, in bytes; the real APIs' limits are far larger than any SMS request. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Parsed request body: field name to value, with repeated form fields collected into arrays. */
export type RequestFields = Record<string, unknown>;

/** Request body that cannot be read or parsed, with the HTTP status of the error response. */
export class RequestBodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = "RequestBodyError";
  }
}

/**
 * Reads the whole request body.
 *
 * @throws RequestBodyError with status 413 when the body is longer than `limit` bytes.
 */
export function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? "0");
  if (declared > limit) {
    // Draining the unread body keeps the socket usable for the 413 response.
    request.resume();
    return Promise.reject(tooLarge(limit));
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Destroying the request would destroy the socket too, so the rest is read and dropped.
      request.off("data", onData);
      request.resume();
      reject(tooLarge(limit));
    };
    request.on("data", onData);
    request.once("end", () => resolve(Buffer.concat(chunks)));
    request.once("error", reject);
  });
}

function tooLarge(limit: number): RequestBodyError {
  return new RequestBodyError(413, `request body is larger than ${limit} bytes`);
}

/**
 * Parses a JSON or form-encoded body by its content type. An empty body parses to no fields.
 *
 * @throws RequestBodyError with status 400 for malformed JSON or a JSON body that is not an object,
 *   and 415 for other content types.
 */
export function parseBody(contentType: string | undefined, raw: Buffer): RequestFields {
  if (raw.length === 0) return {};

  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType === "application/json") return parseJsonObject(raw.toString("utf8"));
  if (mediaType === "application/x-www-form-urlencoded") return parseForm(raw.toString("utf8"));
  throw new RequestBodyError(
    415,
    `content type "${mediaType}" is not supported; send application/json or application/x-www-form-urlencoded`,
  );
}

function parseJsonObject(text: string): RequestFields {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestBodyError(400, "request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RequestBodyError(400, "request body must be a JSON object");
  }
  return value as RequestFields;
}

function parseForm(text: string): RequestFields {
  const fields: RequestFields = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = fields[key];
    if (existing === undefined) fields[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else fields[key] = [existing, value];
  }
  return fields;
}

/** Returns a field as a string when it is a string or a number; otherwise undefined. */
export function stringField(fields: RequestFields, name: string): string | undefined {
  const value = fields[name];
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}
