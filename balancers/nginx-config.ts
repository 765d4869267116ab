/**
 * Pure: nginx pool files. Raptor owns `<include_dir>/<pool>.conf`, which holds exactly one
 * `upstream <pool> { ... }` (http context; the operator's server block does `proxy_pass
 * http://<pool>`). An empty pool keeps one placeholder server marked `down`, so the operator's
 * `proxy_pass` still loads (nginx refuses an upstream with no server, and an unknown upstream
 * name in proxy_pass is a "host not found" error at load). nginx docs: ngx_http_upstream_module.
 */
import type { Node } from "./balancer.ts";

/** The placeholder of an empty pool: the discard port, never routed to (`down`). */
export const NGINX_PLACEHOLDER = "127.0.0.1:9";
const PLACEHOLDER_MARK = "# raptor: empty pool placeholder";

/** The text of `<pool>.conf` for `nodes` (already checked and sorted by the caller). */
export function renderNginxPool(balancer: string, pool: string, nodes: readonly Node[]): string {
  const servers = nodes.length ? nodes.map((n) => `    server ${n};`) : [`    server ${NGINX_PLACEHOLDER} down; ${PLACEHOLDER_MARK}`];
  return [
    `# Written by Raptor (balancer ${balancer}, pool ${pool}). Raptor rewrites this file on every`,
    `# deployment: change the server block that proxies to http://${pool} instead.`,
    `upstream ${pool} {`,
    ...servers,
    `}`,
    ``,
  ].join("\n");
}

/**
 * The nodes a pool file routes to: every `server host:port[ params];` line except the empty-pool
 * placeholder. Lines with other parameters (`weight=2`, added by hand) still count as nodes.
 */
export function parseNginxPool(text: string): Node[] {
  const nodes: Node[] = [];
  for (const line of text.split("\n")) {
    if (line.includes(PLACEHOLDER_MARK)) continue;
    const m = /^\s*server\s+([^\s;]+)[^;]*;/.exec(line);
    if (m) nodes.push(m[1]!);
  }
  return nodes;
}
