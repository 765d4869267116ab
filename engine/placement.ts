/**
 * Where new procs go. Pure: the caller supplies each host's live procs and port range.
 * Hosts to avoid last (HostLoad.avoid), then spread (fewest procs of the same swarm), then least
 * loaded overall (every proc on the host counts, including the ones placed earlier in the same
 * call, whatever their proc type), then host order, so each swarm lands evenly across the squad
 * and busy hosts get less.
 */
import type { ErrorCode } from "../lib/error-codes.ts";
import { parseProcName } from "../runners/proc-layout.ts";

export interface HostLoad {
  host: string;
  /** Live procs of the swarms being placed on this host, by proc type (absent = 0). */
  swarmProcs: Readonly<Record<string, number>>;
  /** All live procs on this host, of any app and proc type. */
  totalProcs: number;
  /** Ports taken on this host (live procs and leases). */
  usedPorts: ReadonlySet<number>;
  /**
   * A proc of these swarms just failed to come back here (a repair replaces it): the host is
   * chosen only when no other one can take the proc, so the replacement does not go back to
   * where the failure may lie (a full disk, a port something invisible holds).
   */
  avoid?: boolean;
}

/** One swarm's new procs to place: `ports` for proc types that listen, none for the others. */
export interface SwarmWant {
  procType: string;
  count: number;
  ports?: { from: number; to: number };
}

/** A host (and port) where a proc failed again after a restart in place (a repair's mend step, `failedAt`). */
export interface FailedPlace {
  host: string;
  port?: number;
}

/**
 * Marks the hosts where a proc just failed again as ones to avoid, and the ports it failed on as
 * taken there: a replacement goes to another host when one has room, and never to the same port.
 * Pure.
 */
export function avoidFailed(loads: HostLoad[], failedAt: readonly FailedPlace[]): HostLoad[] {
  if (failedAt.length === 0) return loads;
  return loads.map((l) => {
    const here = failedAt.filter((f) => f.host === l.host);
    if (here.length === 0) return l;
    return { ...l, avoid: true, usedPorts: new Set([...l.usedPorts, ...here.flatMap((f) => (f.port ? [f.port] : []))]) };
  });
}

export interface Placement {
  host: string;
  port?: number;
}

export class PlacementError extends Error {
  constructor(readonly code: Extract<ErrorCode, "no_hosts" | "no_ports">, message: string) {
    super(message);
    this.name = "PlacementError";
  }
}

/**
 * Places every swarm's new procs in one pass (in the order given), so procs placed for one proc
 * type weigh on the hosts chosen for the next. Returns the placements per proc type.
 * Throws PlacementError `no_hosts` (empty squad) or `no_ports` (every port of the range taken).
 */
export function place(loads: readonly HostLoad[], wants: readonly SwarmWant[]): Record<string, Placement[]> {
  const out: Record<string, Placement[]> = {};
  if (wants.every((w) => w.count <= 0)) {
    for (const w of wants) out[w.procType] = [];
    return out;
  }
  if (loads.length === 0) throw new PlacementError("no_hosts", "the squad has no active hosts");
  const state = loads.map((l, order) => ({ host: l.host, order, avoid: l.avoid ? 1 : 0, swarm: { ...l.swarmProcs } as Record<string, number>, total: l.totalProcs, used: new Set(l.usedPorts) }));
  for (const w of wants) {
    const placed: Placement[] = (out[w.procType] = []);
    const ports = w.ports;
    for (let i = 0; i < w.count; i++) {
      const candidates = ports ? state.filter((s) => freePort(s, ports) !== undefined) : [...state];
      if (candidates.length === 0) {
        throw new PlacementError("no_ports", `no free port left in ${ports!.from}-${ports!.to} on any host of the squad`);
      }
      const swarmOf = (s: (typeof state)[number]) => s.swarm[w.procType] ?? 0;
      candidates.sort((a, b) => a.avoid - b.avoid || swarmOf(a) - swarmOf(b) || a.total - b.total || a.order - b.order);
      const h = candidates[0]!;
      let port: number | undefined;
      if (ports) {
        port = freePort(h, ports)!;
        h.used.add(port);
      }
      h.swarm[w.procType] = swarmOf(h) + 1;
      h.total++;
      placed.push(port === undefined ? { host: h.host } : { host: h.host, port });
    }
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
