/**
 * Who holds each proc's port on a host. A crash that kills only a proc's launcher (supervisord's
 * child: `npm start`, a shell loop, a wrapper) leaves the app it started alive and listening:
 * supervisord starts the program again, and an uptest against the port passes against the
 * leftover. So the beat reads, with one remote command per host, the listening sockets with their
 * pids (`ss -Hltnp`) and the process table (`ps`), and attributes every listener to the
 * supervisord program whose process tree it is in, if any. Parsing and attribution are pure.
 */
import { blocks, parseSs } from "../../runners/listeners.ts";

/**
 * The constant script run on a host: listeners with their processes, a separator, then every
 * process as `pid ppid pgid uid`. Nothing in it comes from outside.
 */
export const PORT_OWNERS_SCRIPT = "ss -Hltnp; echo ---; ps -e -o pid=,ppid=,pgid=,uid=";

export interface ProcessRow {
  pid: number;
  ppid: number;
  pgid: number;
  uid: number;
}

/** A process listening on a port of the host. */
export interface PortHolder {
  pid: number;
  pgid: number;
  uid: number;
  /** The supervisord program whose process tree holds it; undefined when none does (a leftover). */
  program?: string;
}

/** Parses `ps -e -o pid=,ppid=,pgid=,uid=`. */
export function parsePs(text: string): Map<number, ProcessRow> {
  const out = new Map<number, ProcessRow>();
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/).map(Number);
    if (cols.length !== 4 || cols.some((n) => !Number.isInteger(n))) continue;
    const [pid, ppid, pgid, uid] = cols as [number, number, number, number];
    out.set(pid, { pid, ppid, pgid, uid });
  }
  return out;
}

/** Parses `ss -Hltnp`: each listening port of `hostName` (see listeners.ts `blocks`) with the pids holding it. */
export function parseSsPids(text: string, hostName: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const line of text.split("\n")) {
    const [l] = parseSs(line);
    if (!l || !blocks(l.address, hostName)) continue;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    out.set(l.port, [...new Set([...(out.get(l.port) ?? []), ...pids])]);
  }
  return out;
}

/** The program (by its supervisord pid) whose tree holds `pid`: itself or an ancestor. */
export function programOf(pid: number, table: ReadonlyMap<number, ProcessRow>, programPids: ReadonlyMap<number, string>): string | undefined {
  let at: number | undefined = pid;
  // A process table is a tree; the bound only guards against a table read mid-change.
  for (let i = 0; at !== undefined && at > 1 && i < 128; i++) {
    const name = programPids.get(at);
    if (name) return name;
    at = table.get(at)?.ppid;
  }
  return undefined;
}

/**
 * Each listening port of the host with the process holding it, from PORT_OWNERS_SCRIPT's output
 * and supervisord's programs (name and pid; a stopped program has pid 0). A port whose listener
 * shows no pid (ss could not see whose it is) is left out: it cannot be judged. Of several
 * processes sharing a socket, one under a program wins (a pre-fork server's workers).
 */
export function portHolders(output: string, hostName: string, programs: readonly { name: string; pid: number }[]): Map<number, PortHolder> {
  const [ssText = "", psText = ""] = output.split(/^---$/m);
  const table = parsePs(psText);
  const programPids = new Map(programs.filter((p) => p.pid > 0).map((p) => [p.pid, p.name]));
  const out = new Map<number, PortHolder>();
  for (const [port, pids] of parseSsPids(ssText, hostName)) {
    const holders = pids.flatMap((pid) => {
      const row = table.get(pid);
      return row ? [{ pid, pgid: row.pgid, uid: row.uid, program: programOf(pid, table, programPids) }] : [];
    });
    const chosen = holders.find((h) => h.program) ?? holders[0];
    if (chosen) out.set(port, chosen.program ? chosen : { pid: chosen.pid, pgid: chosen.pgid, uid: chosen.uid });
  }
  return out;
}
