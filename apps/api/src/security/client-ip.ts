import { isIP } from "node:net";

/**
 * Reduces a client address to the unit a limit counts: an IPv4 address as is, an IPv6 address by
 * its /64 network, because one subscriber usually holds a whole /64 and could rotate through it.
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as the IPv4 address. Returns undefined for a value
 * that is not an IP address.
 */
export function clientIpBucket(address: string): string | undefined {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined) return isIP(mapped[1]) === 4 ? mapped[1] : undefined;
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6) return undefined;
  return `${expandIpv6(address).slice(0, 4).join(":")}::/64`;
}

/** Expands an IPv6 address into its eight 16-bit groups, lower-case without leading zeros. */
function expandIpv6(address: string): string[] {
  const withoutZone = address.split("%")[0] ?? address;
  const [head = "", tail] = withoutZone.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const headGroups = parse(head);
  const tailGroups = tail === undefined ? [] : parse(tail);
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; only the first four groups matter here.
  const missing = Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailGroups];
  return groups.map((group) => (/^[0-9a-f]{1,4}$/i.test(group) ? Number.parseInt(group, 16).toString(16) : group));
}

/**
 * Turns TRUST_PROXY into fastify's `trustProxy`: a hop count becomes a function, since fastify's
 * types take only booleans, address lists and functions. Unset trusts no proxy, so
 * `X-Forwarded-For` is ignored and `request.ip` is the socket peer.
 */
export function trustProxyOption(
  setting: boolean | number | string | undefined,
): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof setting === "number") return (_address, hop) => hop < setting;
  return setting ?? false;
}
