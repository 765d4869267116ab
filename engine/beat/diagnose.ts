/**
 * What keeps an environment from matching its swarms, from what the database says should run and
 * what supervisord and the balancer say does. Pure: the reconcile job and the repair's mend step
 * read the fleet (fleet-view.ts) and both decide with this, so they cannot disagree.
 */
import type { ProcessInfo } from "../../runners/supervisor/types.ts";
import type { PortHolder } from "./port-owners.ts";
import { plural } from "../../lib/plural.ts";

/** supervisord states of a proc that is not serving and will not come back by itself. */
export const CRASHED_STATES: ReadonlySet<ProcessInfo["statename"]> = new Set(["EXITED", "FATAL", "BACKOFF", "STOPPED", "UNKNOWN"]);

export interface ProcLike {
  id: string;
  name: string;
  host: string;
  port: number | null;
  procType: string;
  releaseId: string;
}

export type Finding<P extends ProcLike = ProcLike> =
  /** Its host answers but supervisord has it in a crashed state, or not at all. */
  | { kind: "crashed"; proc: P; state: string }
  /** Its host is down: the proc is gone with it. */
  | { kind: "lost"; proc: P }
  /** The serving release has fewer procs of a type than the swarm's size. */
  | { kind: "missing"; procType: string; count: number }
  /** A live proc of another release (a teardown that did not finish). */
  | { kind: "stale"; proc: P }
  /** A healthy proc of the serving release that is not in the pool. */
  | { kind: "unrouted"; proc: P; node: string }
  /** A node of this environment in the pool with no live proc behind it. */
  | { kind: "stray_node"; node: string }
  /**
   * Its port is held by a process outside its supervisord program: a leftover of an earlier run
   * whose launcher died (`holder.program` undefined), or another program. Its uptest would pass
   * against that process, so it is not judged healthy.
   */
  | { kind: "port_held"; proc: P; holder: PortHolder };

export interface FleetView<P extends ProcLike = ProcLike> {
  /** Live proc rows of the environment (every release). */
  live: P[];
  servingReleaseId: string;
  /** The swarm sizes: proc type -> count. */
  sizes: Record<string, number>;
  /** Hosts the hosts job found down. */
  downHosts: ReadonlySet<string>;
  /** Each reachable host's programs by name; a host missing here could not be read (left alone). */
  supervised: ReadonlyMap<string, ReadonlyMap<string, ProcessInfo["statename"]>>;
  /** The pool's nodes, when the environment has a pool. */
  poolNodes?: readonly string[];
  /** Every host:port this environment ever ran (only those are ours to remove from a pool). */
  ourNodes: ReadonlySet<string>;
  /** Per read host, who holds each listening port (port-owners.ts); a host or port missing is not judged. */
  portHolders?: ReadonlyMap<string, ReadonlyMap<number, PortHolder>>;
}

const nodeOf = (p: ProcLike) => (p.port ? `${p.host}:${p.port}` : undefined);

export function diagnose<P extends ProcLike>(v: FleetView<P>): Finding<P>[] {
  const out: Finding<P>[] = [];
  const serving = v.live.filter((p) => p.releaseId === v.servingReleaseId);
  const healthy: P[] = [];
  for (const p of serving) {
    if (v.downHosts.has(p.host)) {
      out.push({ kind: "lost", proc: p });
      continue;
    }
    const programs = v.supervised.get(p.host);
    if (!programs) {
      healthy.push(p); // unknown: not read this time, so not judged
      continue;
    }
    const state = programs.get(p.name);
    const holder = p.port ? v.portHolders?.get(p.host)?.get(p.port) : undefined;
    const held = holder !== undefined && holder.program !== p.name;
    if (state === undefined || CRASHED_STATES.has(state)) out.push({ kind: "crashed", proc: p, state: state ?? "MISSING" });
    else if (!held) healthy.push(p);
    if (held) out.push({ kind: "port_held", proc: p, holder });
  }
  for (const p of v.live) if (p.releaseId !== v.servingReleaseId) out.push({ kind: "stale", proc: p });
  const present = serving.filter((p) => !v.downHosts.has(p.host));
  for (const [procType, size] of Object.entries(v.sizes)) {
    const have = present.filter((p) => p.procType === procType).length;
    if (size > have) out.push({ kind: "missing", procType, count: size - have });
  }
  if (v.poolNodes) {
    const inPool = new Set(v.poolNodes);
    for (const p of healthy) {
      const node = nodeOf(p);
      if (node && !inPool.has(node)) out.push({ kind: "unrouted", proc: p, node });
    }
    const liveNodes = new Set(v.live.flatMap((p) => (v.downHosts.has(p.host) ? [] : [nodeOf(p)].filter((n): n is string => !!n))));
    for (const node of v.poolNodes) if (v.ourNodes.has(node) && !liveNodes.has(node)) out.push({ kind: "stray_node", node });
  }
  return out;
}

/** One line per finding, for the repair's summary and the run's record. */
export function describeFinding(f: Finding): string {
  switch (f.kind) {
    case "crashed":
      return `${f.proc.name} on ${f.proc.host} is ${f.state}`;
    case "lost":
      return `${f.proc.name} was on ${f.proc.host}, which is down`;
    case "missing":
      return `${plural(f.count, `${f.procType} proc`)} short of the swarm`;
    case "stale":
      return `${f.proc.name} on ${f.proc.host} is of an old release`;
    case "unrouted":
      return `${f.proc.name} (${f.node}) is not in the pool`;
    case "stray_node":
      return `${f.node} is in the pool with no proc behind it`;
    case "port_held":
      return f.holder.program
        ? `${f.proc.name} on ${f.proc.host}: port ${f.proc.port} is held by ${f.holder.program}`
        : `${f.proc.name} on ${f.proc.host}: port ${f.proc.port} is held by pid ${f.holder.pid}, outside its supervisord program (left over from an earlier run)`;
    default: {
      const never: never = f;
      return String(never);
    }
  }
}
