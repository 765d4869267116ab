import { and, eq, inArray, isNotNull } from "drizzle-orm";
import { procs } from "../../../db/schema/index.ts";
import { balancerFor } from "../../../balancers/registry.ts";
import { withPoolLock } from "../../locks.ts";
import { pickForRemoval } from "../../placement.ts";
import { liveProcs } from "../../state.ts";
import type { ProcRow } from "../../../db/schema/index.ts";
import type { Step, StepContext } from "../step.ts";
import { targetRelease, targetSizes } from "./start.ts";

/**
 * Points the pool at the procs that should serve: new nodes are added (validated and applied on
 * every balancer host) before stale ones are removed, so the pool is never empty of healthy nodes
 * mid-change; the old procs stop later, in teardown, after the environment's `drain`. Only this app+env's own
 * nodes are ever removed. Procs chosen to go (old
 * release, or surplus after a scale down) are marked draining for teardown.
 */
export const routeStep: Step = {
  name: "route",
  async run(ctx) {
    const { keep, drop } = await servingSet(ctx);
    if (drop.length) await ctx.deps.db.update(procs).set({ status: "draining" }).where(inArray(procs.id, drop.map((p) => p.id)));
    const result = { drop: drop.map((p) => p.id) };
    const { balancer: balancerName, pool } = ctx.environment;
    if (!balancerName || !pool) return { result, summary: "no balancer for this environment" };
    const config = ctx.deps.playbook.balancers[balancerName]!;
    const balancer = balancerFor(config, ctx.deps);
    const desired = new Set(keep.flatMap((p) => (p.port ? [`${p.host}:${p.port}`] : [])));
    const ours = await nodesOf(ctx);
    const { added, removed } = await withPoolLock(ctx.deps, balancerName, pool, async () => {
      const current = new Set(await balancer.getNodes(pool));
      const add = [...desired].filter((n) => !current.has(n));
      // Only nodes this app+env ever ran go: a node someone added by hand (or another app's, in
      // a shared pool) is not ours to remove.
      const remove = [...current].filter((n) => !desired.has(n) && ours.has(n));
      // The zero-downtime order: the new nodes are in (validated and applied on every balancer
      // host) before any old one leaves. Each change is all-or-nothing across the balancer's
      // hosts; a failure throws BalancerError (balancer, host, the tool's message) and the
      // deployment's compensation takes the new nodes out again.
      const progress = { progress: (m: string) => ctx.progress(`${balancerName} ${m}`) };
      if (add.length) await balancer.addNodes(pool, add, progress);
      if (remove.length) await balancer.deleteNodes(pool, remove, { ...progress, drainMs: ctx.deps.options.drainMs ?? ctx.environment.drain_ms });
      return { added: add, removed: remove };
    });
    const routed = keep.filter((p) => p.port).map((p) => p.id);
    if (routed.length) await ctx.deps.db.update(procs).set({ status: "routed" }).where(inArray(procs.id, routed));
    return { result: { ...result, added, removed }, summary: `${pool}: +${added.length} −${removed.length} (${desired.size} nodes)` };
  },
};

/** Every host:port any proc of this app+env has had, live or removed. */
async function nodesOf(ctx: StepContext): Promise<Set<string>> {
  const { app, env } = ctx.deployment;
  const rows = await ctx.deps.db
    .selectDistinct({ host: procs.host, port: procs.port })
    .from(procs)
    .where(and(eq(procs.app, app), eq(procs.env, env), isNotNull(procs.port)));
  return new Set(rows.map((r) => `${r.host}:${r.port}`));
}

/**
 * Which live procs serve after this deployment, and which go. Deploy-like kinds: the target
 * release's procs stay, all others go. Scale: the release's procs minus the surplus per proc type.
 * Pure over the rows it reads, so a re-run after a crash picks the same procs.
 */
export async function servingSet(ctx: StepContext): Promise<{ keep: ProcRow[]; drop: ProcRow[] }> {
  const release = await targetRelease(ctx);
  const all = await liveProcs(ctx.deps.db, ctx.deployment.app, ctx.deployment.env);
  const ofRelease = all.filter((p) => p.releaseId === release.id);
  if (ctx.deployment.kind !== "scale") {
    return { keep: ofRelease, drop: all.filter((p) => p.releaseId !== release.id) };
  }
  const sizes = await targetSizes(ctx);
  const drop: ProcRow[] = [];
  for (const type of new Set(ofRelease.map((p) => p.procType))) {
    const ofType = ofRelease.filter((p) => p.procType === type);
    const surplus = ofType.length - (sizes[type] ?? 0);
    // Procs already draining from an interrupted run are the ones to finish removing.
    const draining = ofType.filter((p) => p.status === "draining");
    drop.push(...draining.slice(0, Math.max(surplus, 0)));
    if (surplus > draining.length) drop.push(...pickForRemoval(ofType.filter((p) => p.status !== "draining"), surplus - draining.length));
  }
  const dropIds = new Set(drop.map((p) => p.id));
  return { keep: ofRelease.filter((p) => !dropIds.has(p.id)), drop };
}

