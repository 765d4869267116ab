import { plural, procsOnHosts } from "../../../lib/plural.ts";
import { balancerFor } from "../../../balancers/registry.ts";
import { withPoolLock } from "../../locks.ts";
import type { Balancer } from "../../../balancers/balancer.ts";
import { EngineError } from "../../errors.ts";
import { hostHandle } from "../../fleet.ts";
import { checkProc, nodeOf } from "../swarm.ts";
import { liveProcs } from "../../../db/queries/procs.ts";
import type { ProcRow } from "../../../db/schema/index.ts";
import type { Step, StepContext } from "../step.ts";

/** One restart round: procs of one host, of which `nodes` are taken out of the pool meanwhile. */
export interface RestartBatch<P> {
  host: string;
  procs: P[];
  nodes: string[];
}

/**
 * Splits a restart into rounds: one host at a time, and never so many pool nodes at once that the
 * pool would be empty. With `poolSize` > 1 a round takes out at most poolSize - 1 nodes; a pool of
 * one node has no choice but to lose it briefly. Procs that are not in the pool (workers, procs
 * not routed) go with the host's first round. Pure, so the plan is the same on a re-run.
 */
export function restartBatches<P extends { host: string }>(procs: readonly P[], poolSize: number, nodeOf: (p: P) => string | undefined): RestartBatch<P>[] {
  const cap = poolSize > 1 ? poolSize - 1 : 1;
  const out: RestartBatch<P>[] = [];
  for (const host of [...new Set(procs.map((p) => p.host))]) {
    const onHost = procs.filter((p) => p.host === host);
    const routed = onHost.filter((p) => nodeOf(p) !== undefined);
    const rest = onHost.filter((p) => nodeOf(p) === undefined);
    if (routed.length === 0) {
      out.push({ host, procs: rest, nodes: [] });
      continue;
    }
    for (let i = 0; i < routed.length; i += cap) {
      const chunk = routed.slice(i, i + cap);
      out.push({ host, procs: i === 0 ? [...chunk, ...rest] : chunk, nodes: chunk.map((p) => nodeOf(p)!) });
    }
  }
  return out;
}

/**
 * Restarts procs in place in rounds (restartBatches): take the round's nodes out of the pool,
 * restart its procs, wait for them and uptest them, and put back only those that are RUNNING and
 * passed. A proc that fails stays out of the pool and the step fails with its output.
 */
export const restartStep: Step = {
  name: "restart",
  async run(ctx) {
    const { deployment: d } = ctx;
    const all = (await liveProcs(ctx.deps.db, d.app, d.env)).filter((p) => !d.params.proc || p.procType === d.params.proc);
    if (all.length === 0) throw new EngineError("not_found", `${d.app} ${d.env} has no ${d.params.proc ? `\`${d.params.proc}\` ` : ""}procs to restart.`);
    const pool = poolOf(ctx);
    const inPool = new Set(pool ? await pool.balancer.getNodes(pool.pool) : []);
    // A proc marked routed whose node is missing (a run interrupted mid-round) goes back as well.
    const routedNode = (p: ProcRow) => {
      const node = nodeOf(p);
      return node && pool && (inPool.has(node) || p.status === "routed") ? node : undefined;
    };
    const batches = restartBatches(all, inPool.size, routedNode);
    for (const [i, batch] of batches.entries()) {
      await ctx.progress(restartRoundText(batch, i, batches.length));
      if (pool && batch.nodes.length && batch.nodes.length >= inPool.size) {
        await ctx.progress(`${batch.nodes.join(", ")} ${batch.nodes.length === 1 ? "is" : "are"} all of ${pool.pool}: it is briefly out of the pool while it restarts`);
      }
      await restartBatch(ctx, pool, batch);
    }
    return { result: { restarted: all.length }, summary: `${procsOnHosts(all)} restarted` };
  },
};

/**
 * The progress line of one restart round: which round of how many, where, and which procs, so two
 * rounds on one host read as two different things ("round 1 of 2 on a: restarting web-1").
 * At most 4 names, then a count. Pure.
 */
export function restartRoundText(batch: RestartBatch<{ name: string }>, index: number, rounds: number): string {
  const names = batch.procs.map((p) => p.name);
  const shown = names.length <= 4 ? names.join(", ") : `${names.slice(0, 3).join(", ")} and ${plural(names.length - 3, "more proc")}`;
  const round = rounds > 1 ? `round ${index + 1} of ${rounds}: ` : "";
  return `${round}restarting ${shown} on ${batch.host}`;
}

interface PoolRef {
  name: string;
  pool: string;
  balancer: Balancer;
}

function poolOf(ctx: StepContext): PoolRef | undefined {
  const { balancer, pool } = ctx.environment;
  if (!balancer || !pool) return undefined;
  return { name: balancer, pool, balancer: balancerFor(ctx.deps.playbook.balancers[balancer]!, ctx.deps) };
}

async function restartBatch(ctx: StepContext, pool: PoolRef | undefined, batch: RestartBatch<ProcRow>): Promise<void> {
  const h = hostHandle(ctx.deps, ctx.squad, batch.host);
  const healthy: string[] = [];
  const failures: unknown[] = [];
  if (pool && batch.nodes.length) {
    // Out of the pool, then the drain: a balancer that applies by reload (nginx, Varnish) still
    // sends new requests to the node until its old workers have stopped, and in-flight requests
    // finish, before the proc is stopped (the same rule as teardown after route).
    const drainMs = ctx.deps.options.drainMs ?? ctx.environment.drain_ms;
    await withPoolLock(ctx.deps, pool.name, pool.pool, () => pool.balancer.deleteNodes(pool.pool, batch.nodes, { drainMs }));
    if (drainMs > 0) await new Promise((r) => setTimeout(r, drainMs));
  }
  try {
    for (const p of batch.procs) {
      await h.supervisor.stopProcess(p.name, true);
      await h.supervisor.startProcess(p.name, false);
    }
    // Every proc of the round is checked, so one failure does not keep its neighbours out.
    for (const p of batch.procs) {
      try {
        const { result } = await checkProc(ctx, h, p);
        if (!result.passed) {
          const what = result.name === "running" ? "did not come up" : `${result.name} failed`;
          throw new EngineError("uptest_failed", `${p.name} on ${h.name}: ${what} after restart; it stays out of the pool.`, { output: ctx.redact(result.output) });
        }
        const node = nodeOf(p);
        if (node) healthy.push(node);
      } catch (err) {
        failures.push(err);
      }
    }
  } finally {
    const back = batch.nodes.filter((n) => healthy.includes(n));
    if (pool && back.length) await withPoolLock(ctx.deps, pool.name, pool.pool, () => pool.balancer.addNodes(pool.pool, back));
  }
  if (failures.length) throw failures[0];
}
