/**
 * Where new procs go. Pure: the caller supplies each host's live procs and port range.
 * Spread first (fewest procs of this swarm), then least loaded overall, then host order, so a
 * swarm lands evenly across the squad and busy hosts get less.
 */
import { parseProcName } from "../runners/proc-layout.ts";

export interface HostLoad {
  host: string;
  /** Live procs of the same app+env+proc type on this host. */
  swarmProcs: number;
  /** All live procs on this host. */
  totalProcs: number;
  /** Ports taken on this host (live procs and leases). */
  usedPorts: ReadonlySet<number>;
}

export interface Placement {
  host: string;
  port?: number;
}

export class PlacementError extends Error {
  constructor(readonly code: "no_hosts" | "no_ports", message: string) {
    super(message);
    this.name = "PlacementError";
  }
}

export function place(
  loads: readonly HostLoad[],
  count: number,
  ports: { from: number; to: number } | undefined,
): Placement[] {
  if (count <= 0) return [];
  if (loads.length === 0) throw new PlacementError("no_hosts", "the squad has no active hosts");
  const state = loads.map((l) => ({ ...l, used: new Set(l.usedPorts), next: ports?.from ?? 0 }));
  const out: Placement[] = [];
  for (let i = 0; i < count; i++) {
    const candidates = ports ? state.filter((s) => freePort(s, ports) !== undefined) : state;
    if (candidates.length === 0) {
      throw new PlacementError("no_ports", `no free port left in ${ports!.from}-${ports!.to} on any host of the squad`);
    }
    candidates.sort(
      (a, b) => a.swarmProcs - b.swarmProcs || a.totalProcs - b.totalProcs || loads.findIndex((l) => l.host === a.host) - loads.findIndex((l) => l.host === b.host),
    );
    const h = candidates[0]!;
    let port: number | undefined;
    if (ports) {
      port = freePort(h, ports)!;
      h.used.add(port);
    }
    h.swarmProcs++;
    h.totalProcs++;
    out.push(port === undefined ? { host: h.host } : { host: h.host, port });
  }
  return out;
}

function freePort(s: { used: Set<number> }, ports: { from: number; to: number }): number | undefined {
  for (let p = ports.from; p <= ports.to; p++) if (!s.used.has(p)) return p;
  return undefined;
}

/**
 * Which procs go when a swarm shrinks: from the hosts with the most procs of the swarm first,
 * newest first within a host, so the survivors stay spread.
 */
export function pickForRemoval<T extends { host: string; createdAt: Date }>(procs: readonly T[], count: number): T[] {
  const byHost = new Map<string, T[]>();
  for (const p of procs) byHost.set(p.host, [...(byHost.get(p.host) ?? []), p]);
  for (const list of byHost.values()) list.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const out: T[] = [];
  for (let i = 0; i < count; i++) {
    const busiest = [...byHost.entries()].filter(([, l]) => l.length > 0).sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))[0];
    if (!busiest) break;
    out.push(busiest[1].shift()!);
  }
  return out;
}

/**
 * Indexes for `count` new workers (procs without a port, named `...-w<index>`): the smallest ones
 * not taken by `names`, the live procs of the same app, environment, proc type and release. A
 * scale down can leave a gap (w0, w2), so counting the live ones would hand out an index in use.
 */
export function freeWorkerIndexes(names: readonly string[], count: number): number[] {
  const taken = new Set(names.flatMap((n) => {
    const index = parseProcName(n)?.index;
    return index === undefined ? [] : [index];
  }));
  const out: number[] = [];
  for (let i = 0; out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}
