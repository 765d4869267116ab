import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * `raptor worker` processes for a benchmark, each in a process group of its own (spawned
 * detached), so that whatever a worker starts (a build's sandbox, a git) goes with it. Every group
 * still alive when this process exits, however it exits, is SIGKILLed: a failed phase never
 * leaves workers finishing their jobs behind the benchmark (issue 14: a failed warm-up did).
 */

/** Process groups this process started and has not seen end. */
const groups = new Set<number>();

const killGroup = (pgid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
};

process.on("exit", () => {
  for (const g of groups) killGroup(g, "SIGKILL");
});

export interface WorkerProcess {
  child: ChildProcess;
  /** The last 20 kB of its stdout and stderr. */
  output(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** SIGTERM to the group (a worker finishes its running jobs), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the group at once, for a phase that failed: its jobs are abandoned. */
  kill(): Promise<void>;
}

/** Starts `node <raptorJs> worker` with `env` on top of this process's environment. */
export function startWorkerProcess(raptorJs: string, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [raptorJs, "worker"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const pgid = child.pid!;
  groups.add(pgid);
  let out = "";
  const add = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on("data", add);
  child.stderr!.on("data", add);
  const closed = new Promise<void>((r) => child.on("close", () => r()));
  const gone = async () => {
    await closed;
    // The leader is gone; make sure nothing it started is left in its group.
    killGroup(pgid, "SIGKILL");
    groups.delete(pgid);
  };
  return {
    child,
    output: () => out,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop(graceMs = 15_000) {
      killGroup(pgid, "SIGTERM");
      const t = setTimeout(() => killGroup(pgid, "SIGKILL"), graceMs);
      await gone();
      clearTimeout(t);
    },
    async kill() {
      killGroup(pgid, "SIGKILL");
      await gone();
    },
  };
}

const TICK_MS = 1000 / 100; // USER_HZ

/**
 * CPU ms (user + system) of `pid` and all its descendants, from /proc (proc(5) stat fields 14-17):
 * each live process's own time plus what its ended children it waited for took (an uptest, a git,
 * an ssh session's shell), so short-lived processes count too.
 */
export function treeCpuMs(pid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const walk = (p: number) => {
    total += stats.get(p)?.ticks ?? 0;
    for (const [c, s] of stats) if (s.ppid === p) walk(c);
  };
  walk(pid);
  return total * TICK_MS;
}

/** CPU ms the whole machine spent busy so far (every core; /proc/stat's first line minus idle and iowait). */
export function machineBusyMs(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f as number[];
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * TICK_MS;
}
