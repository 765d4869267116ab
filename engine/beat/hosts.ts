import { changeHostState, ensureHosts, hostState, recordHostSeen } from "../../db/queries/hosts.ts";
import { liveProcsOnHosts } from "../../db/queries/procs.ts";
import type { Squad } from "../../playbooks/types.ts";
import type { EngineDeps } from "../context.ts";
import { hostHandle } from "../fleet.ts";
import { withTimeout } from "./fleet-view.ts";
import { report, squadOrigins } from "./report.ts";
import type { BeatJob } from "./run.ts";
import { plural } from "../../lib/plural.ts";
import { onSquad } from "../../playbooks/resolve.ts";

/** How long SSH and supervisord each get to answer before the host counts as down. */
export const CHECK_TIMEOUT_MS = 10_000;

export interface HostCheck {
  host: string;
  up: boolean;
  /** Why it is down: what SSH and/or supervisord said. */
  error?: string;
}

/** Both ways Raptor works a host must answer: SSH (`true` runs) and supervisord (lists its programs). */
export async function checkHost(deps: EngineDeps, squad: Squad, name: string): Promise<HostCheck> {
  const h = hostHandle(deps, squad, name);
  const [ssh, supervisord] = await Promise.all([
    withTimeout(h.host.exec(["true"], { timeoutMs: CHECK_TIMEOUT_MS }), CHECK_TIMEOUT_MS + 1_000, `ssh to ${name}`).then(
      (r) => (r.code === 0 ? undefined : `ssh: \`true\` exited ${r.code}`),
      (e: Error) => `ssh: ${e.message}`,
    ),
    withTimeout(h.supervisor.getAllProcessInfo(), CHECK_TIMEOUT_MS, `supervisord on ${name}`).then(
      () => undefined,
      (e: Error) => `supervisord: ${e.message}`,
    ),
  ]);
  const problems = [ssh, supervisord].filter((p): p is string => p !== undefined);
  return problems.length ? { host: name, up: false, error: problems.join("; ") } : { host: name, up: true };
}

/**
 * The hosts job: checks every squad host, records what it found (state, last seen, last error),
 * and tells the channels of the environments on the squad once per change of state: down, or back
 * up. A first check that finds a host up is not news. The change is a conditional update, so two
 * overlapping runs report it once.
 */
export const hostsJob: BeatJob = async (deps) => {
  const changes: { squad: string; host: string; state: "up" | "down"; error?: string }[] = [];
  let checked = 0;
  for (const squad of Object.values(deps.playbook.squads)) {
    await ensureHosts(deps.db, squad.name, squad.hosts);
    const results = await Promise.all(squad.hosts.map((name) => checkHost(deps, squad, name)));
    checked += results.length;
    const now = new Date();
    for (const r of results) {
      const state = r.up ? "up" : "down";
      const seen = r.up ? { lastSeenAt: now, lastError: null } : { lastError: r.error ?? null };
      // The squad's own row: another squad naming the same machine keeps its own state.
      const before = await hostState(deps.db, squad.name, r.host);
      // Compare-and-set on the state it had: of two overlapping runs, one sees the change.
      const changed = before !== state && (await changeHostState(deps.db, squad.name, r.host, before, state, now, seen));
      if (!changed) {
        await recordHostSeen(deps.db, squad.name, r.host, seen);
        continue;
      }
      if (!(before === "unknown" && state === "up")) changes.push({ squad: squad.name, host: r.host, state, error: r.error });
    }
    for (const c of changes.filter((x) => x.squad === squad.name)) {
      const targets = squadOrigins(deps.playbook, squad.name);
      if (c.state === "down") {
        const onHost = (await liveProcsOnHosts(deps.db, [c.host])).filter((p) => onSquad(deps.playbook, squad.name, p));
        await report(deps, "hosts", targets, hostDownText(c.host, c.error ?? "no answer", onHost.length, squad));
      } else {
        await report(deps, "hosts", targets, `host ${c.host} is back up. Procs left on it from before are removed as orphans.`);
      }
    }
  }
  return { outcome: changes.length ? "done" : "idle", detail: { checked, changes } };
};

/**
 * What the channels hear when a host goes down: its error, and what becomes of its procs. On a
 * squad of one host there is nowhere to replace them (the trial's `local` squad was told "on the
 * other hosts"): they wait for the host.
 */
export function hostDownText(host: string, error: string, procCount: number, squad: { name: string; hosts: readonly string[] }): string {
  const others = squad.hosts.filter((h) => h !== host).length;
  const what =
    procCount === 0
      ? "No new procs go there until it is back."
      : others > 0
        ? `Its ${plural(procCount, "proc")} will be replaced on the other hosts of ${squad.name}; no new procs go there until it is back.`
        : `${squad.name} has no other host, so its ${plural(procCount, "proc")} cannot be replaced until it is back.`;
  return `host ${host} is down (${error}). ${what}`;
}
