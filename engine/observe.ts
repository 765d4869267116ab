/**
 * What an operator's monitoring reads from every Raptor process: `GET /metrics` (Prometheus text
 * format, engine/metrics.ts) and `GET /healthz` (200 only when Redis and Postgres both answer;
 * 503 naming the one that did not). The bot serves them on its Slack HTTP port; the worker, the
 * beat and a bot without one (Socket Mode, terminal) on RAPTOR_METRICS_PORT (bin/observe.ts).
 */
import type { Redis } from "ioredis";
import type { Db } from "../db/client.ts";
import { pingDatabase } from "../db/queries/health.ts";
import type { HealthReport } from "../lib/observe-http.ts";

export { observabilityRoutes, serveObservability, type HealthReport, type RouteHandler } from "../lib/observe-http.ts";

/** How long each check may take before it counts as failed. */
export const HEALTH_TIMEOUT_MS = 2_000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`no answer in ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * Asks Redis (PING) and Postgres (`select 1`) at once. A Redis client that is not connected fails
 * at once with its connection state instead of queueing the PING behind its reconnects.
 */
export async function checkHealth(deps: { redis: Redis; db: Db }, timeoutMs = HEALTH_TIMEOUT_MS): Promise<HealthReport> {
  const redis = async () => {
    if (deps.redis.status !== "ready") throw new Error(`not connected (${deps.redis.status})`);
    const pong = await within(deps.redis.ping(), timeoutMs);
    if (pong !== "PONG") throw new Error(`answered ${pong}`);
  };
  const postgres = () => within(pingDatabase(deps.db), timeoutMs);
  const [r, p] = await Promise.allSettled([redis(), postgres()]);
  const say = (s: PromiseSettledResult<unknown>) => (s.status === "fulfilled" ? "ok" : `failed: ${(s.reason as Error).message}`);
  return { ok: r.status === "fulfilled" && p.status === "fulfilled", redis: say(r), postgres: say(p) };
}
