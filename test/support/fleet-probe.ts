/**
 * Probes of what a testbed fleet really runs, for the e2e files to compare with what Raptor
 * recorded: the programs of every supervisord, the live proc rows, the nodes of a pool.
 */
import { and, eq, isNull } from "drizzle-orm";
import { balancerFor } from "../../balancers/registry.ts";
import { procs } from "../../db/schema/index.ts";
import { createSupervisor } from "../../runners/supervisor/xmlrpc-client.ts";
import type { ProcessInfo } from "../../runners/supervisor/types.ts";
import type { Harness } from "./raptor-harness.ts";
import type { Testbed } from "./testbed.ts";

type Placed = { host: string; port: number | null };

/**
 * Every program of every supervisord in the bed, host by host, with the host it runs on.
 * supervisord answers over HTTP, so this works while a host's sshd is down. `only`: those hosts.
 */
export async function supervisorPrograms(bed: Testbed, only?: readonly string[]): Promise<(ProcessInfo & { host: string })[]> {
  const out: (ProcessInfo & { host: string })[] = [];
  for (const host of bed.hosts.filter((h) => only === undefined || only.includes(h.name))) {
    const s = createSupervisor({ url: host.supervisorUrl, username: bed.supervisor.username, password: bed.supervisor.password });
    out.push(...(await s.getAllProcessInfo()).map((i) => ({ ...i, host: host.name })));
  }
  return out;
}

/** `host/name/state` of every program in every supervisord of the bed, sorted. */
export async function supervisedPrograms(bed: Testbed, only?: readonly string[]): Promise<string[]> {
  return (await supervisorPrograms(bed, only)).map((i) => `${i.host}/${i.name}/${i.statename}`).sort();
}

/** What supervisedPrograms must say for these live rows: each `host/name/RUNNING`, sorted. */
export function runningProgramsOf(rows: { host: string; name: string }[]): string[] {
  return rows.map((p) => `${p.host}/${p.name}/RUNNING`).sort();
}

/** The live (not removed) proc rows of `app`, of every environment or only of `env`. */
export function liveProcRows(h: Harness, app: string, env?: string) {
  return h.engine.db
    .select()
    .from(procs)
    .where(and(eq(procs.app, app), env === undefined ? undefined : eq(procs.env, env), isNull(procs.removedAt)));
}

/** The nodes (`host:port`) in `pool` of the playbook's balancer `balancer`. */
export function poolNodes(h: Harness, balancer: string, pool: string): Promise<string[]> {
  return balancerFor(h.engine.playbook.balancers[balancer]!, h.engine).getNodes(pool);
}

/** The nodes of these rows as a pool lists them: `host:port`, sorted. */
export function nodesOf(rows: Placed[]): string[] {
  return rows.map((p) => `${p.host}:${p.port}`).sort();
}
