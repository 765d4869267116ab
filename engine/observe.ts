/**
 * What an operator's monitoring reads from every Raptor process: `GET /metrics` (Prometheus text
 * format, engine/metrics.ts) and `GET /healthz` (200 only when Redis and Postgres both answer;
 * 503 naming the one that did not). The bot serves them on its Slack HTTP port; the worker, the
 * beat and a bot without one (Socket Mode, terminal) on RAPTOR_METRICS_PORT (bin/observe.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import type { Db } from "../db/client.ts";
import { pingDatabase } from "../db/queries/health.ts";
import type { RaptorMetrics } from "./metrics.ts";

/** Each dependency's answer: "ok", or why it is not (for the operator reading /healthz). */
export interface HealthReport {
  ok: boolean;
  redis: string;
  postgres: string;
}

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

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The two routes, as handlers by path (Bolt's customRoutes take them as they are). */
export function observabilityRoutes(o: { metrics: RaptorMetrics; health: () => Promise<HealthReport> }): Record<"/metrics" | "/healthz", RouteHandler> {
  const fail = (res: ServerResponse, err: unknown) => {
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(`error: ${(err as Error).message}\n`);
  };
  return {
    "/metrics": (_req, res) => {
      o.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": o.metrics.registry.contentType });
        res.end(text);
      }, (err) => fail(res, err));
    },
    "/healthz": (_req, res) => {
      o.health().then((h) => {
        res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
        res.end(`${JSON.stringify({ status: h.ok ? "ok" : "unhealthy", redis: h.redis, postgres: h.postgres })}\n`);
      }, (err) => fail(res, err));
    },
  };
}

/**
 * An HTTP server with only the two routes (GET), on `port` (0: any free one) of `host`.
 * Resolves with the server and the port it listens on; rejects when the port cannot be had.
 */
export async function serveObservability(routes: Record<string, RouteHandler>, port: number, host = "0.0.0.0"): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = routes[path];
    if (!route || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics or /healthz\n");
      return;
    }
    route(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => (server.off("error", reject), resolve()));
  });
  return { server, port: (server.address() as AddressInfo).port };
}
