/**
 * `hosts check [<squad>]`: runs the host checks (checks.ts) on one host, in order, on a worker (a
 * `check` read, engine/host-reads.ts: the bot reaches no host). Reads only: nothing is left behind
 * on the hosts.
 */
import { hostHandle } from "../fleet.ts";
import { portsLeasedOn } from "../../db/queries/procs.ts";
import type { EngineDeps } from "../context.ts";
import type { Playbook, Squad } from "../../playbooks/types.ts";
import { hostChecks, type CheckResult, type HostCheck } from "./checks.ts";

export interface HostReport {
  host: string;
  checks: ({ name: string } & CheckResult)[];
}

export interface SquadReport {
  squad: string;
  hosts: HostReport[];
}

/** Runs `checks` on one host: a check whose `needs` did not pass is skipped, naming what it waits for. */
export async function checkHost(deps: Pick<EngineDeps, "hosts" | "db">, squad: Squad, hostName: string, checks: readonly HostCheck[] = hostChecks, apps: readonly string[] = []): Promise<HostReport> {
  const results: ({ name: string } & CheckResult)[] = [];
  let handle;
  try {
    handle = hostHandle(deps, squad, hostName);
  } catch (err) {
    return { host: hostName, checks: [{ name: "config", status: "fail", detail: (err as Error).message, fix: "correct the squad in the playbook" }] };
  }
  const leased = await portsLeasedOn(deps.db, hostName);
  const passed = new Set<string>();
  const label = (name: string) => checks.find((c) => c.name === name)?.label?.(squad) ?? name;
  for (const check of checks) {
    const missing = (check.needs ?? []).filter((n) => !passed.has(n));
    if (missing.length) {
      results.push({ name: label(check.name), status: "skip", detail: `needs ${missing.map(label).join(", ")}` });
      continue;
    }
    const r = await check.run({ squad, handle, leased, apps }).catch((err: unknown): CheckResult => ({ status: "fail", detail: (err as Error).message }));
    if (r.status === "ok" || r.status === "warn") passed.add(check.name);
    results.push({ name: label(check.name), ...r });
  }
  return { host: hostName, checks: results };
}

/** The apps with an environment on squad `squad`, by name. */
export function appsOn(playbook: Pick<Playbook, "apps"> | undefined, squad: string): string[] {
  return Object.values(playbook?.apps ?? {})
    .filter((a) => Object.values(a.environments).some((e) => e.squad === squad))
    .map((a) => a.name)
    .sort();
}
