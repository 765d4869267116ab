/**
 * Pure parts of the Stingray (Pulse / Brocade / Ivanti vTM) backend: the pool resource's shape
 * and the changes to its `nodes_table`. From the vTM REST API guide: a pool is
 * `{url}/config/active/pools/<name>`; GET answers `{ properties: { basic: { nodes_table: [...] } } }`;
 * PUT changes only the properties it names (201 when it created the pool, 200 otherwise); an
 * error answers `{ error_id, error_text }`; a node's state is active | draining | disabled.
 */
import type { Node } from "./balancer.ts";

export type NodeState = "active" | "draining" | "disabled";

/** One row of a pool's `properties.basic.nodes_table`. */
export interface NodesTableRow {
  node: string;
  state: NodeState;
  weight?: number;
  priority?: number;
}

export interface PoolResource {
  properties: { basic: { nodes_table: NodesTableRow[] } & Record<string, unknown> } & Record<string, unknown>;
}

/** `{url}/config/active/pools/<pool>`, the pool name percent-encoded. */
export function poolUrl(base: string, pool: string): string {
  return `${base.replace(/\/+$/, "")}/config/active/pools/${encodeURIComponent(pool)}`;
}

/** The rows of a GET answer; throws when the answer is not a pool resource. */
export function nodesTable(body: unknown): NodesTableRow[] {
  const table = (body as PoolResource | undefined)?.properties?.basic?.nodes_table;
  if (!Array.isArray(table)) throw new Error("the answer has no properties.basic.nodes_table");
  return table;
}

/** The pool's nodes (every row, whatever its state), sorted. */
export function tableNodes(table: readonly NodesTableRow[]): Node[] {
  return table.map((r) => r.node).sort();
}

/** Adds nodes as active rows (weight 1); a node already there in any state becomes active again. */
export function withNodesActive(table: readonly NodesTableRow[], nodes: readonly Node[]): NodesTableRow[] {
  const want = new Set(nodes);
  const out = table.map((r) => (want.has(r.node) ? { ...r, state: "active" as const } : r));
  const have = new Set(table.map((r) => r.node));
  for (const n of [...want].sort()) if (!have.has(n)) out.push({ node: n, state: "active", weight: 1 });
  return out;
}

/** Marks the given nodes `draining`: no new sessions, current ones finish. */
export function withNodesDraining(table: readonly NodesTableRow[], nodes: readonly Node[]): NodesTableRow[] {
  const gone = new Set(nodes);
  return table.map((r) => (gone.has(r.node) ? { ...r, state: "draining" as const } : r));
}

/** Removes the given nodes' rows. */
export function withoutNodes(table: readonly NodesTableRow[], nodes: readonly Node[]): NodesTableRow[] {
  const gone = new Set(nodes);
  return table.filter((r) => !gone.has(r.node));
}

/** The PUT body that replaces only the nodes table. */
export function putBody(table: readonly NodesTableRow[]): { properties: { basic: { nodes_table: NodesTableRow[] } } } {
  return { properties: { basic: { nodes_table: [...table] } } };
}

/** The appliance's own words from an error answer (`error_id: error_text`), or the raw text. */
export function errorText(status: number, raw: string): string {
  try {
    const e = JSON.parse(raw) as { error_id?: string; error_text?: string };
    if (e.error_id || e.error_text) return `HTTP ${status} ${e.error_id ?? ""}: ${e.error_text ?? ""}`.trim();
  } catch {
    // not JSON: fall through to the text itself
  }
  return `HTTP ${status}${raw.trim() ? `: ${raw.trim().slice(0, 300)}` : ""}`;
}
