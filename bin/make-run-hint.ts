import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Whether `make run` (scripts/run.sh) is running on this data directory: its `raptor all` writes
 * its pid to `<dataDir>/run.pid`. A pid file whose process is gone counts as not running.
 */
export function makeRunIsRunning(dataDir: string, alive: (pid: number) => boolean = pidAlive): boolean {
  let text: string;
  try {
    text = readFileSync(join(dataDir, "run.pid"), "utf8");
  } catch {
    return false;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * What `raptor say` prints first (stderr) on the embedded set-up (no DATABASE_URL) when `make run`
 * is not running: without it the demo's supervisord and nginx are down, so deploys cannot start
 * procs and `status` finds supervisord refusing connections. Undefined when there is nothing to say.
 * Pure: `running` is makeRunIsRunning's answer; `supervisorPort` is RAPTOR_SUPERVISOR_PORT, the
 * demo supervisord's port (playbooks/examples/squads.yaml, scripts/demo.sh), 9001 when unset.
 */
export function makeRunHint(opts: { databaseUrl?: string; running: boolean; supervisorPort?: string }): string | undefined {
  if (opts.databaseUrl || opts.running) return undefined;
  return `raptor say: \`make run\` is not running, so the demo's supervisord (127.0.0.1:${opts.supervisorPort || "9001"}) and nginx are not either: commands that start or read procs will fail to reach them. Start it in another terminal with \`make run\` (from this checkout), then try again.`;
}
