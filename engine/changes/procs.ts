import { pickForRemoval, place, PlacementError, type HostLoad } from "../placement.ts";

/**
 * Which procs a change starts and stops, per host, and the pool nodes that come and go: the
 * placement the start step runs (`place`) and the choice the scale-down runs (`pickForRemoval`),
 * as one pure function over rows read beforehand. `plan` shows it; nothing is leased.
 */

/** A live proc as this needs it (a ProcRow has these fields). */
export interface LiveProc {
  host: string;
  port: number | null;
  name: string;
  procType: string;
  releaseId: string;
  status: string;
  createdAt: Date;
}

export interface ProcStart {
  host: string;
  procType: string;
  port?: number;
}

export interface ProcStop {
  host: string;
  name: string;
  procType: string;
  port?: number;
}

export interface ProcChange {
  start: ProcStart[];
  stop: ProcStop[];
  /** `host:port` nodes added to and removed from the pool (procs that listen only). */
  poolAdd: string[];
  poolRemove: string[];
  /** Why placement cannot place the new procs (no active host, no free port), if so. */
  problem?: string;
}

export interface ProcChangeInput {
  /** `release`: a new release replaces every live proc; `topUp`: the serving release is resized (scale, or a deploy of what serves). */
  mode: "release" | "topUp";
  /** Proc type -> how many should run after the change. */
  sizes: Readonly<Record<string, number>>;
  /** The app+environment's live procs. */
  live: readonly LiveProc[];
  /** The serving release (topUp counts and keeps its procs). */
  servingReleaseId?: string;
  /** Loads of the squad's active hosts, as the start step computes them (`loadsFor`). */
  loads: readonly HostLoad[];
  listens: (procType: string) => boolean;
  ports: { from: number; to: number };
}

/** Plans the procs of one change (see the module comment). Never throws for a placement problem: it is returned. */
export function planProcChange(i: ProcChangeInput): ProcChange {
  const keep = i.mode === "topUp" ? i.live.filter((p) => p.releaseId === i.servingReleaseId) : [];
  const stop: LiveProc[] = i.mode === "topUp" ? i.live.filter((p) => p.releaseId !== i.servingReleaseId) : [...i.live];
  const add: Record<string, number> = {};
  for (const [type, size] of Object.entries(i.sizes)) {
    const have = keep.filter((p) => p.procType === type);
    if (size > have.length) add[type] = size - have.length;
    else if (size < have.length) {
      const draining = have.filter((p) => p.status === "draining");
      const surplus = have.length - size;
      stop.push(...draining.slice(0, surplus));
      if (surplus > draining.length) stop.push(...pickForRemoval(have.filter((p) => p.status !== "draining"), surplus - draining.length));
    }
  }
  // Proc types the sizes no longer name stop too (a release whose Procfile dropped them).
  for (const p of keep) if (!Object.hasOwn(i.sizes, p.procType) && !stop.includes(p)) stop.push(p);
  const out: ProcChange = { start: [], stop: stop.map(toStop), poolAdd: [], poolRemove: [] };
  out.poolRemove = stop.filter((p) => p.port && i.listens(p.procType)).map((p) => `${p.host}:${p.port}`);
  try {
    const wants = Object.entries(add).map(([procType, count]) => ({ procType, count, ...(i.listens(procType) ? { ports: i.ports } : {}) }));
    const placed = place(i.loads, wants);
    for (const [procType, list] of Object.entries(placed)) for (const pl of list) out.start.push({ host: pl.host, procType, ...(pl.port !== undefined ? { port: pl.port } : {}) });
  } catch (err) {
    if (!(err instanceof PlacementError)) throw err;
    out.problem = err.message;
  }
  out.poolAdd = out.start.filter((s) => s.port !== undefined && i.listens(s.procType)).map((s) => `${s.host}:${s.port}`);
  return out;
}

function toStop(p: LiveProc): ProcStop {
  return { host: p.host, name: p.name, procType: p.procType, ...(p.port ? { port: p.port } : {}) };
}
