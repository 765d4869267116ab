import { BalancerError, type Node } from "./balancer.ts";
import { POOL_NAME, POOL_NAME_RULE } from "../lib/names.ts";

const NODE = /^([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?):(\d{1,5})$/;

/**
 * Nodes become text in a balancer's config, so only `host:port` with a DNS name or IPv4 address
 * and a port 1-65535 gets through: nothing that could end a directive (`;`, `}`, spaces,
 * newlines). Throws BalancerError naming the first bad node. Returns them sorted, without repeats.
 */
export function checkNodes(balancer: string, nodes: readonly Node[]): Node[] {
  for (const node of nodes) {
    const m = NODE.exec(node);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65_535) throw new BalancerError(balancer, `"${node}" is not a node (host:port, port 1-65535)`);
  }
  return [...new Set(nodes)].sort(compareNodes);
}

/** Orders nodes by host, then numerically by port (a stable file for the same pool). */
export function compareNodes(a: Node, b: Node): number {
  const [ha, pa] = splitNode(a);
  const [hb, pb] = splitNode(b);
  return ha < hb ? -1 : ha > hb ? 1 : pa - pb;
}

/** `"10.0.0.1:5000"` -> `["10.0.0.1", 5000]`. */
export function splitNode(node: Node): [string, number] {
  const i = node.lastIndexOf(":");
  return [node.slice(0, i), Number(node.slice(i + 1))];
}

/**
 * Pool names become identifiers in the balancer's config. The playbook allows POOL_NAME
 * (lib/names.ts); a backend whose language is stricter (VCL) passes its own pattern.
 */
export function checkPool(balancer: string, pool: string, pattern = POOL_NAME, rule = POOL_NAME_RULE): void {
  if (!pattern.test(pool)) throw new BalancerError(balancer, `"${pool}" is not a pool name this backend accepts (${rule})`);
}
