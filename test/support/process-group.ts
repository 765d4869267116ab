import { readdirSync, readFileSync } from "node:fs";

/**
 * Live (not zombie) members of a process group, read from /proc (proc(5): field 3 of
 * /proc/<pid>/stat is the state, field 5 the process group). Tests that SIGKILL a `bin/raptor`
 * process group wait for this to be empty: the kernel takes a moment to tear a process down.
 */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat = "";
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") out.push(Number(entry));
  }
  return out;
}
