import type { Redis } from "ioredis";

/** Reads every key matching `pattern` and returns each key with its values as text. */
export async function dumpKeys(redis: Redis, pattern: string): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    for (const key of keys) dump.set(key, await readValue(redis, key));
  } while (cursor !== "0");
  return dump;
}

async function readValue(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
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

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  const keys = [...(await dumpKeys(redis, pattern)).keys()];
  if (keys.length > 0) await redis.del(...keys);
}
