import type { Host } from "../../runners/host.ts";
import type { PortHolder } from "./port-owners.ts";

/** How long a leftover gets to exit on SIGTERM before SIGKILL. */
export const LEFTOVER_TERM_MS = 5_000;

export type LeftoverOutcome = { killed: true; target: string } | { killed: false; why: string };

/**
 * Ends a leftover holding a proc's port: a process outside every supervisord program (its
 * launcher died) that is a proc's, which Raptor checks before touching it: it does not run as
 * root, and its working directory is a proc directory under the squad root (`<root>/procs/...`,
 * where run.sh starts every proc; "(deleted)" when the directory was laid out again since). Its
 * process group goes when the group's leader (the dead launcher) is gone, so the app's own
 * children end too; else only the process. SIGTERM, then SIGKILL after LEFTOVER_TERM_MS.
 * Anything else is not Raptor's to kill: the answer says why, and the caller moves the proc.
 * Commands are argv; `env kill` runs procps' kill, since a login shell's builtin may not take `--`.
 */
export async function killLeftover(host: Host, root: string, holder: PortHolder): Promise<LeftoverOutcome> {
  if (holder.program) return { killed: false, why: `it is ${holder.program}'s` };
  if (holder.uid === 0) return { killed: false, why: `pid ${holder.pid} runs as root` };
  const cwd = await host.exec(["readlink", "--", `/proc/${holder.pid}/cwd`], { timeoutMs: 15_000 });
  const dir = cwd.stdout.trim().replace(/ \(deleted\)$/, "");
  if (cwd.code !== 0 || !dir.startsWith(`${root}/procs/`)) return { killed: false, why: `pid ${holder.pid} works in ${dir || "(unreadable)"}, not in a proc directory` };
  const group = holder.pgid > 1 && (holder.pgid === holder.pid || !(await alive(host, holder.pgid)));
  const target = group ? `-${holder.pgid}` : String(holder.pid);
  await host.exec(["env", "kill", "-TERM", "--", target], { timeoutMs: 15_000 });
  const deadline = Date.now() + LEFTOVER_TERM_MS;
  while (Date.now() < deadline) {
    if (!(await alive(host, holder.pid))) return { killed: true, target };
    await new Promise((r) => setTimeout(r, 200));
  }
  await host.exec(["env", "kill", "-KILL", "--", target], { timeoutMs: 15_000 });
  return { killed: true, target };
}

/** Whether `pid` runs (a zombie does not: it waits for a parent that may never reap it). */
async function alive(host: Host, pid: number): Promise<boolean> {
  const r = await host.exec(["ps", "-o", "stat=", "-p", String(pid)], { timeoutMs: 15_000 });
  return r.code === 0 && r.stdout.trim() !== "" && !r.stdout.trim().startsWith("Z");
}
