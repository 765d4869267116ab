import { plural } from "../../../lib/plural.ts";
import { balancerFor } from "../../../balancers/registry.ts";
import { withPoolLock } from "../../locks.ts";
import { nodesEverUsed, setProcStatus } from "../../../db/queries/procs.ts";
import type { Step } from "../step.ts";
import { nodesOfProcs, servingSet } from "../swarm.ts";

/**
 * Points the pool at the procs that should serve: new nodes are added (validated and applied on
 * every balancer host) before stale ones are removed, so the pool is never empty of healthy nodes
 * mid-change. Each change returns once it is live for new requests, and a removal once nothing
 * routes to the removed nodes any more, at most the environment's `drain` (nginx: its reload
 * confirmed and the old workers exited; HAProxy: sessions drained); the old procs stop later, in
 * teardown, after the environment's `drain`. Only this app+env's own
 * nodes are ever removed. Procs chosen to go (old
 * release, or surplus after a scale down) are marked draining for teardown.
 */
export const routeStep: Step = {
  name: "route",
  async run(ctx) {
    const { keep, drop } = await servingSet(ctx);
    await setProcStatus(ctx.deps.db, drop.map((p) => p.id), "draining");
    const result = { drop: drop.map((p) => p.id) };
    const { balancer: balancerName, pool } = ctx.environment;
    if (!balancerName || !pool) return { result, summary: "no balancer for this environment" };
    const config = ctx.deps.playbook.balancers[balancerName]!;
    const balancer = balancerFor(config, ctx.deps);
    const desired = new Set(nodesOfProcs(keep));
    const ours = await nodesEverUsed(ctx.deps.db, ctx.deployment.app, ctx.deployment.env);
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
    await setProcStatus(ctx.deps.db, routed, "routed");
    return { result: { ...result, added, removed }, summary: added.length || removed.length ? `${pool}: +${added.length} −${removed.length} (${plural(desired.size, "node")})` : `${pool} unchanged (${plural(desired.size, "node")})` };
  },
};
