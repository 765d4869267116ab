import { balancerFor } from "../../balancers/registry.ts";
import { withPoolLock } from "../locks.ts";
import type { ProcRow } from "../../db/schema/index.ts";
import { failLiveProcsOfDeployment, liveProcsOfDeployment, undrainProcs } from "../../db/queries/procs.ts";
import { stepOf } from "../../db/queries/deployment-steps.ts";
import { removeProcs } from "../remove-procs.ts";
import type { StepContext } from "./step.ts";
import { plural } from "../../lib/plural.ts";

/**
 * Undoes what a failed or cancelled deployment started: its new procs leave the pool (if routing
 * had begun) and are stopped and removed. Old procs are untouched, so traffic stays where it was.
 * The balancer part never stands in the way of the rest: when the pool cannot be read or changed,
 * the new procs are still removed from their hosts and a note says which nodes may be left in the
 * pool. Procs on a host that cannot be reached are marked removed with a warning: they were never
 * started there, or the host is gone; the beat's reconcile job sweeps any leftover.
 * Returns one line per thing done or not undone, for the thread.
 */
export async function compensate(ctx: StepContext): Promise<string[]> {
  const { deps, deployment: d } = ctx;
  const notes: string[] = [];
  const mine = await liveProcsOfDeployment(deps.db, d.id);
  // Scale-downs marked survivors as draining; put them back in service.
  await undrainProcs(deps.db, d.app, d.env);
  if (mine.length === 0) return notes;
  const stillServing = await unroute(ctx, mine, notes);
  const doomed = mine.filter((p) => !(p.port && stillServing.has(`${p.host}:${p.port}`)));
  const { removed, failed } = await removeProcs(deps, ctx.squad, doomed);
  if (failed.length) {
    await failLiveProcsOfDeployment(deps.db, d.id);
    notes.push(...failed.map((f) => `could not remove ${f.proc.name} on ${f.proc.host}: ${ctx.redact(f.error)}`));
  }
  // "removed 0 new procs" above the procs it could not remove read as if there were none (new-user trial, finding 11).
  const tried = removed + failed.length;
  if (failed.length === 0) notes.unshift(`removed ${plural(removed, "new proc")}`);
  else if (removed > 0) notes.unshift(`removed ${removed} of ${plural(tried, "new proc")}`);
  return notes;
}

/**
 * Takes this deployment's nodes out of the pool, if the route step ever began (before it, none
 * can be there, and the balancer is not contacted at all). Returns the nodes left serving on
 * purpose (the only ones in the pool); a balancer that fails is reported in `notes`, not thrown.
 */
async function unroute(ctx: StepContext, mine: ProcRow[], notes: string[]): Promise<Set<string>> {
  const { deps, deployment: d } = ctx;
  const stillServing = new Set<string>();
  const { balancer: balancerName, pool } = ctx.environment;
  const nodes = mine.flatMap((p) => (p.port ? [`${p.host}:${p.port}`] : []));
  if (!balancerName || !pool || nodes.length === 0) return stillServing;
  const route = await stepOf(deps.db, d.id, "route");
  if (!route || route.status === "pending" || route.status === "skipped") return stillServing;
  try {
    const balancer = balancerFor(deps.playbook.balancers[balancerName]!, deps);
    await withPoolLock(deps, balancerName, pool, async () => {
      const current = new Set(await balancer.getNodes(pool));
      const routed = nodes.filter((n) => current.has(n));
      // Never empty a pool that had other nodes: remove ours only if someone else still serves.
      // The new procs stop right after: what still routes to them gets the environment's drain.
      if (routed.length && current.size > routed.length) await balancer.deleteNodes(pool, routed, { drainMs: deps.options.drainMs ?? ctx.environment.drain_ms });
      else if (routed.length) {
        routed.forEach((n) => stillServing.add(n));
        notes.push(`left ${routed.length} new nodes in ${pool} running: they are the only ones serving`);
      }
    });
  } catch (err) {
    stillServing.clear();
    notes.push(
      `could not take the new nodes out of pool ${pool} on balancer ${balancerName} (${ctx.redact((err as Error).message)}); ` +
        `their procs were removed anyway, so if the pool still lists ${nodes.join(", ")}, remove ${nodes.length === 1 ? "it" : "them"} from ${pool} by hand`,
    );
  }
  return stillServing;
}
