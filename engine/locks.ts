import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * Every lock Raptor takes, in one place:
 *  - withRedisLock: a lease in Redis, shared by every worker on every machine;
 *  - withPoolLock: one balancer pool's changes, serialized across workers (a Redis lease);
 *  - endOnce (engine/pipeline/end.ts): the right to end one deployment (compensate, then its
 *    verdict), taken without waiting by whoever ends it; the loser leaves it to the holder;
 *  - lockLine (db/queries/locks.ts): an app+env's line of deployments, for the length of a
 *    Postgres transaction; the turn's transaction takes it (db/queries/deployments.ts takeTurnInLine);
 *  - placeAndLease (db/queries/procs.ts): every placement of new procs, read-then-lease, for the
 *    length of a Postgres transaction (the start step's placement).
 * The environment `lock` command is not a lock of this kind: it is a row (db/queries/locks.ts)
 * that refuses new deployments until someone unlocks it.
 */

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Runs `fn` holding a Redis lock (SET NX PX with a token, released only by its owner).
 * The lease is extended while `fn` runs, so a slow balancer reload does not lose it; a worker
 * that dies lets it expire after `ttlMs` (default 15 s). Waits up to `waitMs` (default 60 s) for a
 * holder to finish, then throws an Error naming the key.
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
  return hold(redis, key, token, ttl, fn);
}

/**
 * Runs `fn` holding a Redis lock only if nobody holds it now (no waiting): `{ held: false }`
 * without running `fn` when someone does. Same lease as withRedisLock (extended while `fn` runs,
 * expiring `ttlMs` after a holder dies). For work that must happen once whoever asks, such as
 * ending a deployment (engine/pipeline/end.ts).
 */
export async function withRedisLockIfFree<T>(redis: Redis, key: string, fn: () => Promise<T>, opts: { ttlMs?: number } = {}): Promise<{ held: true; value: T } | { held: false }> {
  const ttl = opts.ttlMs ?? 15_000;
  const token = randomUUID();
  if ((await redis.set(key, token, "PX", ttl, "NX")) !== "OK") return { held: false };
  return { held: true, value: await hold(redis, key, token, ttl, fn) };
}

async function hold<T>(redis: Redis, key: string, token: string, ttl: number, fn: () => Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => void redis.eval(EXTEND, 1, key, token, ttl).catch(() => {}), ttl / 3);
  try {
    return await fn();
  } finally {
    clearInterval(keepAlive);
    await redis.eval(RELEASE, 1, key, token);
  }
}

/** What the pool lock needs: a Redis connection and the key prefix ("raptor:"). */
export interface PoolLockDeps {
  redis: Redis;
  prefix: string;
}

/**
 * Runs `fn` holding the lock of one balancer pool, so changes to it are serialized across every
 * worker (Velociraptor raced here). The engine takes it around every balancer call that changes
 * a pool; backends themselves take no lock.
 */
export function withPoolLock<T>(deps: PoolLockDeps, balancer: string, pool: string, fn: () => Promise<T>): Promise<T> {
  return withRedisLock(deps.redis, `${deps.prefix}lock:pool:${balancer}:${pool}`, fn, { ttlMs: 30_000, waitMs: 120_000 });
}

