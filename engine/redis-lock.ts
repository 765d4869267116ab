import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Runs `fn` holding a Redis lock (SET NX PX with a token, released only by its owner).
 * The lease is extended while `fn` runs, so a slow balancer reload does not lose it; a worker
 * that dies lets it expire after `ttlMs`. Waits up to `waitMs` for a holder to finish.
 */
export async function withRedisLock<T>(
  redis: Redis,
  key: string,
  fn: () => Promise<T>,
  opts: { ttlMs?: number; waitMs?: number } = {},
): Promise<T> {
  const ttl = opts.ttlMs ?? 15_000;
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  const token = randomUUID();
  let delay = 20;
  while ((await redis.set(key, token, "PX", ttl, "NX")) !== "OK") {
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${key}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
  const keepAlive = setInterval(() => void redis.eval(EXTEND, 1, key, token, ttl).catch(() => {}), ttl / 3);
  try {
    return await fn();
  } finally {
    clearInterval(keepAlive);
    await redis.eval(RELEASE, 1, key, token);
  }
}
