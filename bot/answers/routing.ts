/**
 * Pure: what a balancer routes next to what runs, for `status`. A running proc with a port whose
 * node is not in the pool is marked "not routed"; a node in the pool that no live proc of the
 * environment serves is marked "no proc" (a dead node, or one someone added by hand).
 */

export interface RoutedProc {
  name: string;
  host: string;
  port: number | null;
}

export interface RoutingView {
  /** The status line of the pool: `routed by edge (nginx), pool web_prod: a:1, b:2 (no proc)`. */
  line: string;
  /** Names of live procs with a port that the pool does not list. */
  notRouted: Set<string>;
}

/** `nodes` is the pool's node list, or the reason it could not be read. */
export function routingView(balancer: string, kind: string, pool: string, nodes: readonly string[] | string, live: readonly RoutedProc[]): RoutingView {
  const head = `routed by ${balancer} (${kind}), pool ${pool}`;
  if (typeof nodes === "string") return { line: `${head}: unknown (${nodes})`, notRouted: new Set() };
  const inPool = new Set(nodes);
  const served = new Set(live.flatMap((p) => (p.port ? [`${p.host}:${p.port}`] : [])));
  const notRouted = new Set(live.filter((p) => p.port && !inPool.has(`${p.host}:${p.port}`)).map((p) => p.name));
  const shown = nodes.map((n) => (served.has(n) ? n : `${n} (no proc)`));
  return { line: `${head}: ${shown.length ? shown.join(", ") : "no nodes"}`, notRouted };
}
