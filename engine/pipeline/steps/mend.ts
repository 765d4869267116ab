import { balancerFor } from "../../../balancers/registry.ts";
import { withPoolLock } from "../../locks.ts";
import { diagnose, type Finding } from "../../beat/diagnose.ts";
import { readFleetView } from "../../beat/fleet-view.ts";
import { hostHandle, runner } from "../../fleet.ts";
import { buildOf, specFor } from "../../proc-spec.ts";
import type { ProcRow } from "../../../db/schema/index.ts";
import { markProcsRemoved, setProcStatus } from "../../../db/queries/procs.ts";
import { removeProcs } from "../../remove-procs.ts";
import type { Step, StepContext } from "../step.ts";
import { checkProc, targetRelease } from "../swarm.ts";

/**
 * The first step of a repair (the beat's reconcile job): procs lost with a down host are written
 * off (their rows end; the start step that follows places their replacements on healthy hosts);
 * crashed procs leave the pool, are restarted in place and uptested; one that does not come back
 * healthy is removed, and the start step replaces it. The route step then puts the survivors back
 * in the pool. Reads the fleet afresh, so a re-run after a crash judges what is true now.
 */
export const mendStep: Step = {
  name: "mend",
  async run(ctx) {
    const { deps } = ctx;
    const release = await targetRelease(ctx);
    const findings = diagnose(await readFleetView(deps, ctx.environment, ctx.squad, release.id));
    const lost = findings.flatMap((f) => (f.kind === "lost" ? [f.proc] : []));
    const crashed = findings.filter((f): f is Extract<Finding<ProcRow>, { kind: "crashed" }> => f.kind === "crashed");
    if (lost.length) {
      // Nothing to stop: the host is down. The orphans job removes them if it comes back.
      await markProcsRemoved(deps.db, lost.map((p) => p.id), "failed");
      await ctx.progress(`${lost.length} proc${lost.length === 1 ? "" : "s"} lost with ${[...new Set(lost.map((p) => p.host))].join(", ")}: replacing`);
    }
    await unroute(ctx, crashed.map((f) => f.proc));
    const restarted: string[] = [];
    const replaced: string[] = [];
    const build = crashed.length ? await buildOf(deps.db, release) : undefined;
    await Promise.all(
      crashed.map(async ({ proc: p, state }) => {
        const h = hostHandle(deps, ctx.squad, p.host);
        let ok = false;
        try {
          await runner.startProc(h.host, h.supervisor, specFor(p, release, build!, ctx.squad, ctx.environment));
          ok = (await checkProc(ctx, h, p)).result.passed;
        } catch (err) {
          await ctx.progress(`${p.name} on ${p.host} would not restart: ${ctx.redact((err as Error).message)}`);
        }
        if (ok) {
          restarted.push(p.name);
          await setProcStatus(deps.db, [p.id], "running");
          await ctx.progress(`${p.name} on ${p.host} was ${state}: restarted and healthy`);
          return;
        }
        const { failed } = await removeProcs(deps, ctx.squad, [p]);
        if (failed.length) await markProcsRemoved(deps.db, [p.id], "failed");
        replaced.push(p.name);
        await ctx.progress(`${p.name} on ${p.host} failed again after a restart: replacing it`);
      }),
    );
    const parts = [
      restarted.length ? `${restarted.length} restarted` : "",
      replaced.length ? `${replaced.length} failing to replace` : "",
      lost.length ? `${lost.length} lost to replace` : "",
    ].filter(Boolean);
    return { result: { restarted, replaced, lost: lost.map((p) => p.name) }, summary: parts.join(", ") || "no crashed or lost procs" };
  },
};

/** Takes crashed procs' nodes out of the pool while they are restarted (route puts them back). */
async function unroute(ctx: StepContext, list: ProcRow[]): Promise<void> {
  const { balancer: name, pool } = ctx.environment;
  const nodes = list.flatMap((p) => (p.port ? [`${p.host}:${p.port}`] : []));
  if (!name || !pool || nodes.length === 0) return;
  const balancer = balancerFor(ctx.deps.playbook.balancers[name]!, ctx.deps);
  await withPoolLock(ctx.deps, name, pool, async () => {
    const current = new Set(await balancer.getNodes(pool));
    const present = nodes.filter((n) => current.has(n));
    if (present.length) await balancer.deleteNodes(pool, present);
  });
}
