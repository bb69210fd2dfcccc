import type { Redis } from "ioredis";

/** Every key matching `pattern` and its value, as one text, for tests that look for leaks. Bounded SCAN rounds. */
export async function dumpRedis(redis: Redis, pattern: string): Promise<string> {
  const parts: string[] = [];
  let cursor = "0";
  for (let round = 0; round < 10_000; round += 1) {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    for (const key of keys) parts.push(key, await readValue(redis, key));
    cursor = next;
    if (cursor === "0") break;
  }
  return parts.join("\n");
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
    default:
      return "";
  }
}
