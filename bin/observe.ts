import { checkHealth, observabilityRoutes, type RouteHandler } from "../engine/observe.ts";
import { serveOnMetricsPort, type ProcessRole } from "./metrics-port.ts";
import type { Runtime } from "./runtime.ts";

export { DEFAULT_METRICS_PORTS, type ProcessRole } from "./metrics-port.ts";

/** The two routes over this process's one registry and its Redis and Postgres. */
export function routesOf(rt: Runtime): Record<string, RouteHandler> {
  const { metrics, redis, db } = rt.engine;
  return observabilityRoutes({ metrics: metrics!, health: () => checkHealth({ redis, db }) });
}

/**
 * Serves `/metrics` and `/healthz` on RAPTOR_METRICS_PORT (or the role's default) and resolves
 * with the function that stops it (bin/metrics-port.ts: a taken port is reported, not fatal).
 */
export function serveMetrics(rt: Runtime, role: ProcessRole, env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  return serveOnMetricsPort(routesOf(rt), role, rt.engine.logger, env);
}
