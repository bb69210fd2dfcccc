import type { Redis } from "ioredis";

/** Reads every key matching `pattern` and returns each key with its value as text, for leak checks in tests. */
export async function dumpKeys(redis: Redis, pattern: string): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  let cursor = "0";
  // Bounded SCAN rounds, so a test never loops forever on a misbehaving server.
  for (let round = 0; round < 10_000; round += 1) {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    for (const key of keys) dump.set(key, await readValue(redis, key));
    cursor = next;
    if (cursor === "0") break;
  }
  return dump;
}

/** Returns every key matching `pattern` and its value joined into one text. */
export async function dumpRedis(redis: Redis, pattern: string): Promise<string> {
  return [...(await dumpKeys(redis, pattern))].flat().join("\n");
}

/** Deletes every key matching `pattern`, with a bounded number of SCAN rounds. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  for (let round = 0; round < 10_000; round += 1) {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
    if (cursor === "0") return;
  }
}

async function readValue(redis: Redis, key: string): Promise<string> {
  switch (await redis.type(key)) {
    case "string":
      return (await redis.get(key)) ?? "";
    case "hash":
      return JSON.stringify(await redis.hgetall(key));
    case "list":
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case "set":
      return JSON.stringify(await redis.smembers(key));
    case "zset":
      return JSON.stringify(await redis.zrange(key, 0, -1, "WITHSCORES"));
    case "stream":
      return JSON.stringify(await redis.xrange(key, "-", "+"));
    default:
      return "";
  }
}
