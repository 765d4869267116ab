import { serveObservability, type RouteHandler } from "../lib/observe-http.ts";
import type { Logger } from "../lib/logger.ts";

/**
 * Default port of `/metrics` and `/healthz` for each process that has no Slack HTTP port of its
 * own. RAPTOR_METRICS_PORT overrides it (a number; 0 picks a free port; `off` serves nothing), so
 * several workers on one machine each get their own. A bot on Slack over HTTP serves both on PORT.
 */
export const DEFAULT_METRICS_PORTS = { bot: 9100, worker: 9101, beat: 9102 } as const;

export type ProcessRole = keyof typeof DEFAULT_METRICS_PORTS;

/**
 * Serves `routes` on RAPTOR_METRICS_PORT (or the role's default) and resolves with the function
 * that stops it. A port already taken is said on stderr and in the log, and the process goes on
 * without them: a worker that cannot publish metrics must still deploy.
 */
export async function serveOnMetricsPort(routes: Record<string, RouteHandler>, role: ProcessRole, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  const setting = env.RAPTOR_METRICS_PORT?.trim();
  if (setting === "off") return async () => {};
  const port = setting && /^\d+$/.test(setting) ? Number(setting) : DEFAULT_METRICS_PORTS[role];
  try {
    const { server, port: bound } = await serveObservability(routes, port);
    log.info({ port: bound, role }, "serving /metrics and /healthz");
    return () => new Promise((resolve) => server.close(() => resolve()));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "EADDRINUSE" ? `port ${port} is taken (set RAPTOR_METRICS_PORT)` : (err as Error).message;
    log.error({ port, role, err: why }, "cannot serve /metrics and /healthz");
    process.stderr.write(`raptor: not serving /metrics and /healthz: ${why}\n`);
    return async () => {};
  }
}
