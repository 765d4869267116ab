import { and, eq, isNull } from "drizzle-orm";
import { balancerFor } from "../../balancers/registry.ts";
import { withPoolLock } from "../locks.ts";
import { procs } from "../../db/schema/index.ts";
import { removeProcs } from "../teardown.ts";
import type { StepContext } from "./step.ts";

/**
 * Undoes what a failed or cancelled deployment started: its new procs leave the pool (if routing
 * had begun) and are stopped and removed. Old procs are untouched, so traffic stays where it was.
 * Procs on a host that cannot be reached are marked removed with a warning: they were never
 * started there, or the host is gone; the beat's reconcile job sweeps any leftover.
 */
export async function compensate(ctx: StepContext): Promise<string[]> {
  const { deps, deployment: d } = ctx;
  const notes: string[] = [];
  const mine = await deps.db.select().from(procs).where(and(eq(procs.deploymentId, d.id), isNull(procs.removedAt)));
  // Scale-downs marked survivors as draining; put them back in service.
  await deps.db.update(procs).set({ status: "routed" }).where(and(eq(procs.app, d.app), eq(procs.env, d.env), eq(procs.status, "draining"), isNull(procs.removedAt)));
  if (mine.length === 0) return notes;
  const { balancer: balancerName, pool } = ctx.environment;
  const stillServing = new Set<string>();
  if (balancerName && pool) {
    const nodes = mine.flatMap((p) => (p.port ? [`${p.host}:${p.port}`] : []));
    const balancer = balancerFor(deps.playbook.balancers[balancerName]!, deps);
    await withPoolLock(deps, balancerName, pool, async () => {
      const current = new Set(await balancer.getNodes(pool));
      const routed = nodes.filter((n) => current.has(n));
      // Never empty a pool that had other nodes: remove ours only if someone else still serves.
      if (routed.length && current.size > routed.length) await balancer.deleteNodes(pool, routed);
      else if (routed.length) {
        routed.forEach((n) => stillServing.add(n));
        notes.push(`left ${routed.length} new nodes in ${pool} running: they are the only ones serving`);
      }
    });
  }
  const doomed = mine.filter((p) => !(p.port && stillServing.has(`${p.host}:${p.port}`)));
  const { removed, failed } = await removeProcs(deps, ctx.squad, doomed);
  if (failed.length) {
    await deps.db.update(procs).set({ status: "failed", removedAt: new Date() }).where(and(eq(procs.deploymentId, d.id), isNull(procs.removedAt)));
    notes.push(...failed.map((f) => `could not remove ${f.proc.name} on ${f.proc.host}: ${ctx.redact(f.error)}`));
  }
  notes.unshift(`removed ${removed} new proc${removed === 1 ? "" : "s"}`);
  return notes;
}
