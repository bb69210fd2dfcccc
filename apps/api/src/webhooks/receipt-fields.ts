import type { IncomingHttpHeaders } from "node:http";
import type { DeliveryState } from "@otpin/core";

/** Reads a single-valued header. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Looks a provider status up in a table; unknown statuses change nothing. */
export function stateOf(table: Readonly<Record<string, DeliveryState>>, status: string | undefined): DeliveryState | undefined {
  if (status === undefined) return undefined;
  return Object.hasOwn(table, status.toLowerCase()) ? table[status.toLowerCase()] : undefined;
}
