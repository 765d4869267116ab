import { balancerFor, withPoolLock } from "../../../balancers/registry.ts";
import type { Balancer } from "../../../balancers/balancer.ts";
import { EngineError } from "../../errors.ts";
import { hostHandle, runner } from "../../fleet.ts";
import { runUptests } from "../../../runners/uptest.ts";
import { procEnv, procPaths } from "../../../runners/proc-layout.ts";
import { liveProcs, releaseById, type ProcRow } from "../../state.ts";
import type { Step, StepContext } from "../step.ts";

/**
 * Restarts procs in place, one host at a time: take the host's nodes out of the pool, restart
 * its procs, wait for them and uptest them, put them back. The other hosts keep serving.
 */
export const restartStep: Step = {
  name: "restart",
  async run(ctx) {
    const { deployment: d } = ctx;
    const all = (await liveProcs(ctx.deps.db, d.app, d.env)).filter((p) => !d.params.proc || p.procType === d.params.proc);
    if (all.length === 0) throw new EngineError("not_found", `${d.app} ${d.env} has no ${d.params.proc ? `\`${d.params.proc}\` ` : ""}procs to restart.`);
    const hostsInOrder = [...new Set(all.map((p) => p.host))];
    const pool = poolOf(ctx);
    for (const hostName of hostsInOrder) {
      const onHost = all.filter((p) => p.host === hostName);
      const nodes = onHost.flatMap((p) => (p.port ? [`${p.host}:${p.port}`] : []));
      await ctx.progress(`restarting ${onHost.length} proc${onHost.length === 1 ? "" : "s"} on ${hostName}`);
      if (pool && nodes.length) await withPoolLock(ctx.deps, pool.name, pool.pool, () => pool.balancer.deleteNodes(pool.pool, nodes));
      await restartOnHost(ctx, hostName, onHost);
      if (pool && nodes.length) await withPoolLock(ctx.deps, pool.name, pool.pool, () => pool.balancer.addNodes(pool.pool, nodes));
    }
    return { result: { restarted: all.length }, summary: `${all.length} procs on ${hostsInOrder.length} hosts` };
  },
};

function poolOf(ctx: StepContext): { name: string; pool: string; balancer: Balancer } | undefined {
  const { balancer, pool } = ctx.environment;
  if (!balancer || !pool) return undefined;
  return { name: balancer, pool, balancer: balancerFor(ctx.deps.playbook.balancers[balancer]!, ctx.deps) };
}

async function restartOnHost(ctx: StepContext, hostName: string, list: ProcRow[]): Promise<void> {
  const h = hostHandle(ctx.deps, ctx.squad, hostName);
  const opts = ctx.deps.options;
  for (const p of list) {
    await h.supervisor.stopProcess(p.name, true);
    await h.supervisor.startProcess(p.name, false);
  }
  for (const p of list) {
    await runner.waitRunning(h.supervisor, p.name, { timeoutMs: opts.startTimeoutMs, host: hostName });
    if (!p.port) continue;
    await runner.waitPort(h.host, { host: hostName, port: p.port, timeoutMs: opts.startTimeoutMs });
    const paths = procPaths(h.root, p.name);
    const config = (await releaseById(ctx.deps.db, p.releaseId))?.config ?? {};
    const env = procEnv({ hostName, port: p.port, settingsYaml: paths.settingsYaml, config });
    const results = await runUptests(h.host, { procDir: paths.dir, procType: p.procType, hostName, port: p.port, env, timeoutMs: opts.uptestRunTimeoutMs, deadlineMs: ctx.environment.uptest_timeout_ms });
    const failed = results.find((r) => !r.passed);
    if (failed) throw new EngineError("uptest_failed", `${p.name} on ${hostName}: ${failed.name} failed after restart; it stays out of the pool.`, { output: ctx.redact(failed.output) });
  }
}
