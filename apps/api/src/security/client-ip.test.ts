import { describe, expect, test } from "vitest";
import { clientIpBucket, trustProxyOption } from "./client-ip.js";

describe("client address buckets", () => {
  test.each([
    ["203.0.113.7", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff::1", "2001:db8:1:2::/64"],
    ["::1", "0:0:0:0::/64"],
    // A zone index names the sender's interface; varying it must not yield a fresh bucket.
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["fe80::1%eth1", "fe80:0:0:0::/64"],
    ["fe80::2%25", "fe80:0:0:0::/64"],
  ])("counts %s as %s", (address, bucket) => {
    expect(clientIpBucket(address)).toBe(bucket);
  });

  test("gives one bucket to every address of a /64", () => {
    expect(clientIpBucket("2001:db8:aa:bb::1")).toBe(clientIpBucket("2001:db8:aa:bb:ffff:ffff:ffff:ffff"));
    expect(clientIpBucket("2001:db8:aa:bb::1")).not.toBe(clientIpBucket("2001:db8:aa:bc::1"));
  });

  test("returns nothing for a value that is not an address", () => {
    expect(clientIpBucket("localhost")).toBeUndefined();
    expect(clientIpBucket("999.1.1.1")).toBeUndefined();
  });

  test("turns a hop count into a function for fastify", () => {
    const option = trustProxyOption(1) as (address: string, hop: number) => boolean;

    expect(option("10.0.0.1", 0)).toBe(true);
    expect(option("10.0.0.1", 1)).toBe(false);
    expect(trustProxyOption(undefined)).toBe(false);
    expect(trustProxyOption("10.0.0.0/8")).toBe("10.0.0.0/8");
  });
});
