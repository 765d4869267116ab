import { plural } from "../../lib/plural.ts";
import { utcTime, utcTimeFrom } from "../../lib/time-text.ts";

/** What `hosts` knows of one host: its row (the beat's hosts job and placement write it), if any. */
export interface HostFacts {
  active: boolean;
  state: string;
  stateSince: Date | null;
  lastSeenAt: Date | null;
  lastError: string | null;
  busyPorts: readonly number[];
  portsCheckedAt: Date | null;
}

/**
 * One host as `hosts` lists it, everything the README promises: its procs, its state and since
 * when, when it last answered (SSH and supervisord both), its last error while it is down, and the
 * ports of the squad's range that other programs hold (placement skips them), with when they were
 * read; "not checked yet" for what the beat has not looked at. `range`: the squad's ports. Pure.
 *
 * `  127.0.0.1: 2 procs; no busy ports (as of 2026-11-30 06:41 UTC) — up since 2026-11-30 06:00 UTC, last seen 2026-11-30 06:41 UTC (20s ago)`
 */
export function hostLine(name: string, procs: number, row: HostFacts | undefined, range: { from: number; to: number }, now: Date): string {
  const inactive = row?.active === false ? " (inactive)" : "";
  const busy = (row?.busyPorts ?? []).filter((p) => p >= range.from && p <= range.to);
  const asOf = row?.portsCheckedAt ? ` as of ${utcTime(row.portsCheckedAt)}` : "";
  const ports = !row?.portsCheckedAt && busy.length === 0
    ? "; ports not checked yet"
    : busy.length > 0
      ? `; busy ports (held by other programs, skipped): ${busy.join(", ")}${asOf}`
      : `; no busy ports${asOf ? ` (${asOf.trim()})` : ""}`;
  if (!row || row.state === "unknown") return `  ${name}: ${plural(procs, "proc")}${inactive}${ports} — not checked yet${row?.lastSeenAt ? `, last seen ${utcTimeFrom(row.lastSeenAt, now)}` : ""}`;
  const state = ` — ${row.state}${row.stateSince ? ` since ${utcTime(row.stateSince)}` : ""}`;
  const seen = `, last seen ${row.lastSeenAt ? utcTimeFrom(row.lastSeenAt, now) : "never"}`;
  const error = row.lastError ? `; last error: ${row.lastError}` : "";
  return `  ${name}: ${plural(procs, "proc")}${inactive}${ports}${state}${seen}${error}`;
}
