/**
 * Pure: Varnish pool files. Raptor owns `<include_dir>/<pool>.vcl` (one backend per node and a
 * round-robin director named `<pool>`, built in `vcl_init`) and `<include_dir>/pools.vcl`, which
 * includes every pool file; the operator's main VCL includes pools.vcl once and routes with
 * `set req.backend_hint = <pool>.backend();`. Varnish concatenates the several `vcl_init`
 * subroutines, and a director with no backend is valid (requests get a 503), so an empty pool
 * keeps loading. Sources: varnish-cache docs, "VCL Syntax" (include, subroutine concatenation)
 * and vmod_directors(3) (round_robin, add_backend).
 */
import type { Node } from "./balancer.ts";
import { splitNode } from "./nodes.ts";

/** Pool names become VCL symbols: a letter, then letters, digits and "_". */
export const VCL_POOL = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const VCL_POOL_RULE = 'a letter, then letters, digits and "_" (a VCL name)';

/** The backend name of a node in a pool: `<pool>__<host with . and - as _>__<port>`. */
export function backendName(pool: string, node: Node): string {
  const [host, port] = splitNode(node);
  return `${pool}__${host.replace(/[.-]/g, "_")}__${port}`;
}

/** The text of `<pool>.vcl` for `nodes` (checked and sorted by the caller). */
export function renderVarnishPool(balancer: string, pool: string, nodes: readonly Node[]): string {
  const backends = nodes.map((n) => {
    const [host, port] = splitNode(n);
    return `backend ${backendName(pool, n)} { .host = "${host}"; .port = "${port}"; }`;
  });
  return [
    `# Written by Raptor (balancer ${balancer}, pool ${pool}). Raptor rewrites this file on every`,
    `# deployment: route to it with \`set req.backend_hint = ${pool}.backend();\` in your own VCL.`,
    `import directors;`,
    ...backends,
    `sub vcl_init {`,
    `    new ${pool} = directors.round_robin();`,
    ...nodes.map((n) => `    ${pool}.add_backend(${backendName(pool, n)});`),
    `}`,
    ``,
  ].join("\n");
}

/** The nodes a pool file routes to: every backend's `.host` and `.port`. */
export function parseVarnishPool(text: string): Node[] {
  const nodes: Node[] = [];
  for (const m of text.matchAll(/^\s*backend\s+\S+\s*\{\s*\.host\s*=\s*"([^"]+)";\s*\.port\s*=\s*"(\d+)";/gm)) nodes.push(`${m[1]}:${m[2]}`);
  return nodes;
}

/** `pools.vcl`: one include per pool file, by absolute path, in name order (a stable file). */
export function renderPoolsVcl(includeDir: string, pools: readonly string[]): string {
  const lines = [...new Set(pools)].sort().map((p) => `include "${includeDir}/${p}.vcl";`);
  return [`# Written by Raptor: every pool of this balancer. Include this file once from your main VCL.`, ...lines, ``].join("\n");
}

/** The pools a pools.vcl includes. */
export function parsePoolsVcl(text: string): string[] {
  return [...text.matchAll(/^include "[^"]*\/([^/"]+)\.vcl";/gm)].map((m) => m[1]!);
}
