import { isIP } from "node:net";

/**
 * Reduces a client address to the unit a limit counts: an IPv4 address as is, an IPv6 address by
 * its /64 network, because one subscriber usually holds a whole /64 and could rotate through it.
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as the IPv4 address. Returns undefined for a value
 * that is not an IP address.
 */
export function clientIpBucket(address: string): string | undefined {
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6) return undefined;
  const groups = expandIpv6(withHexIpv4Tail(address));
  // IPv4-mapped in any spelling: ::ffff:192.0.2.1, ::ffff:c000:201, 0:0:0:0:0:ffff:192.0.2.1.
  if (groups.slice(0, 5).every((group) => group === "0") && groups[5] === "ffff") {
    const high = Number.parseInt(groups[6] ?? "", 16);
    const low = Number.parseInt(groups[7] ?? "", 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join(".");
  }
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** Rewrites an embedded IPv4 tail (`::ffff:192.0.2.1`) as its two hex groups (`::ffff:c000:201`). */
function withHexIpv4Tail(address: string): string {
  const match = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address.split("%")[0] ?? address);
  if (match?.[1] === undefined || match[2] === undefined) return address;
  const [a = 0, b = 0, c = 0, d = 0] = match[2].split(".").map(Number);
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
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
