import type { ProcessInfo, Supervisor } from "./supervisor/types.ts";

/**
 * One `getAllProcessInfo` shared by everyone polling the same supervisord (issue 14, fault 3).
 * supervisord's XML-RPC has no push, so waiting for RUNNING means polling; a deployment waits on
 * all its procs on a host at once, and each waiter asking separately made N calls per poll. Here
 * a poll joins the call already in flight when that call started after the waiter began waiting
 * (an older one could predate its proc's start and report it unknown or stopped); otherwise it
 * starts a new one. Waiters that poll on the same schedule share one call per tick.
 */

interface InFlight {
  /** performance.now() when the call was sent. */
  startedAt: number;
  result: Promise<ProcessInfo[]>;
}

const latest = new WeakMap<Supervisor, InFlight>();

/**
 * supervisord's process list, from a call sent no earlier than `since` (performance.now()).
 * Joins a matching call in flight; never caches a finished one.
 */
export function sharedProcessInfo(supervisor: Supervisor, since: number): Promise<ProcessInfo[]> {
  const current = latest.get(supervisor);
  if (current && current.startedAt >= since) return current.result;
  const entry: InFlight = { startedAt: performance.now(), result: supervisor.getAllProcessInfo() };
  latest.set(supervisor, entry);
  const forget = () => {
    if (latest.get(supervisor) === entry) latest.delete(supervisor);
  };
  entry.result.then(forget, forget);
  return entry.result;
}
