/**
 * The HTTP side of `/metrics` and `/healthz` (engine/observe.ts has the checks behind them): the
 * two route handlers and a server for processes without a Slack HTTP port. No database or queue
 * import here, so the bot's acking thread (bin/slack-ack-thread.ts) serves them without loading
 * the engine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Each dependency's answer: "ok", or why it is not (for the operator reading /healthz). */
export interface HealthReport {
  ok: boolean;
  redis: string;
  postgres: string;
  /** Set when the bot's command thread is not running (it is being restarted). */
  commands?: string;
}

/** What `/metrics` serves: a prom-client Registry, or anything that renders like one. */
export interface MetricsSource {
  registry: { metrics(): Promise<string>; readonly contentType: string };
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The two routes, as handlers by path (Bolt's customRoutes take them as they are). */
export function observabilityRoutes(o: { metrics: MetricsSource; health: () => Promise<HealthReport> }): Record<"/metrics" | "/healthz", RouteHandler> {
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
        res.end(`${JSON.stringify({ status: h.ok ? "ok" : "unhealthy", redis: h.redis, postgres: h.postgres, ...(h.commands ? { commands: h.commands } : {}) })}\n`);
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
