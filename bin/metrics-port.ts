import { serveObservability, type RouteHandler } from "../lib/observe-http.ts";
import type { Logger } from "../lib/logger.ts";
import { isIP } from "node:net";

/**
 * Default port of `/metrics` and `/healthz` for each process that has no Slack HTTP port of its
 * own. RAPTOR_METRICS_PORT overrides it (a number; 0 picks a free port; `off` serves nothing), so
 * several workers on one machine each get their own. A bot on Slack over HTTP serves both on PORT.
 */
export const DEFAULT_METRICS_PORTS = { bot: 9100, worker: 9101, beat: 9102 } as const;

export type ProcessRole = keyof typeof DEFAULT_METRICS_PORTS;

/**
 * The address `/metrics` and `/healthz` listen on: RAPTOR_METRICS_ADDR when set (an IP address,
 * `0.0.0.0` or `::` for every interface); else 127.0.0.1 on the embedded set-up (no DATABASE_URL:
 * one machine, `make run`'s demo, where everything else listens on loopback or a unix socket);
 * else every interface, for a Prometheus on the monitoring network. Pure.
 * Returns `{ error }` for a value that is not an IP address (a host name would resolve to anything).
 */
export function metricsAddress(env: NodeJS.ProcessEnv): { address: string } | { error: string } {
  const setting = env.RAPTOR_METRICS_ADDR?.trim();
  if (setting) return isIP(setting) ? { address: setting } : { error: `RAPTOR_METRICS_ADDR is "${setting}", not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)` };
  return { address: env.DATABASE_URL ? "0.0.0.0" : "127.0.0.1" };
}

/**
 * Serves `routes` on RAPTOR_METRICS_PORT (or the role's default), at metricsAddress, and resolves
 * with the function that stops it. A port already taken, or a bad address, is said on stderr and
 * in the log, and the process goes on without them: a worker that cannot publish metrics must
 * still deploy.
 */
export async function serveOnMetricsPort(routes: Record<string, RouteHandler>, role: ProcessRole, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  const setting = env.RAPTOR_METRICS_PORT?.trim();
  if (setting === "off") return async () => {};
  const port = setting && /^\d+$/.test(setting) ? Number(setting) : DEFAULT_METRICS_PORTS[role];
  const at = metricsAddress(env);
  try {
    if ("error" in at) throw new Error(at.error);
    const { server, port: bound } = await serveObservability(routes, port, at.address);
    log.info({ address: at.address, port: bound, role }, "serving /metrics and /healthz");
    return () => new Promise((resolve) => server.close(() => resolve()));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "EADDRINUSE" ? `port ${port} is taken (set RAPTOR_METRICS_PORT)` : (err as Error).message;
    log.error({ port, role, err: why }, "cannot serve /metrics and /healthz");
    process.stderr.write(`raptor: not serving /metrics and /healthz: ${why}\n`);
    return async () => {};
  }
}
