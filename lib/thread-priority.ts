import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/**
 * Lowers the CPU priority of the calling thread alone by `increment` nice steps (Linux: nice is
 * per thread, and /proc/thread-self names the thread's id; setpriority(2) on that id changes only
 * it). Lowering needs no privilege. Returns the new nice value, or undefined where this cannot be
 * done (not Linux, no /proc): the thread then runs at the process's priority, as before.
 */
export function lowerThisThreadPriority(increment: number): number | undefined {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    const nice = Math.min(19, getPriority(tid) + increment);
    setPriority(tid, nice);
    return nice;
  } catch {
    return undefined;
  }
}
