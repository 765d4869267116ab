import { balancerFor } from "../../../balancers/registry.ts";
import { withPoolLock } from "../../locks.ts";
import { diagnose, type Finding } from "../../beat/diagnose.ts";
import { readFleetView } from "../../beat/fleet-view.ts";
import { hostHandle, runner } from "../../fleet.ts";
import { buildOf, specFor } from "../../proc-spec.ts";
import type { ProcRow } from "../../../db/schema/index.ts";
import { markProcsRemoved, setProcStatus } from "../../../db/queries/procs.ts";
import { removeProcs } from "../../remove-procs.ts";
import { addBusyPort } from "../../../db/queries/hosts.ts";
import { killLeftover } from "../../beat/leftover.ts";
import type { Step, StepContext } from "../step.ts";
import type { FailedPlace } from "../../placement.ts";
import { checkProc, targetRelease } from "../swarm.ts";
import { plural } from "../../../lib/plural.ts";

/**
 * The first step of a repair (the beat's reconcile job): procs lost with a down host are written
 * off (their rows end; the start step that follows places their replacements on healthy hosts);
 * crashed procs leave the pool, are restarted in place and uptested; one that does not come back
 * healthy is removed, and the start step replaces it, on another host when the squad has one with
 * room and never on the port it failed on (result `failedAt`). A proc whose port is held outside its
 * supervisord program has the leftover ended (engine/beat/leftover.ts) and is restarted; when
 * the holder is not a proc's leftover, the port is marked busy and the proc replaced elsewhere. The route step then puts the survivors back
 * in the pool. Reads the fleet afresh, so a re-run after a crash judges what is true now.
 */
export const mendStep: Step = {
  name: "mend",
  async run(ctx) {
    const { deps } = ctx;
    const release = await targetRelease(ctx);
    const findings = diagnose(await readFleetView(deps, ctx.environment, ctx.squad, release.id));
    const lost = findings.flatMap((f) => (f.kind === "lost" ? [f.proc] : []));
    const crashed: { proc: ProcRow; state: string; stopFirst?: boolean }[] = findings.filter((f): f is Extract<Finding<ProcRow>, { kind: "crashed" }> => f.kind === "crashed");
    const held = findings.filter((f): f is Extract<Finding<ProcRow>, { kind: "port_held" }> => f.kind === "port_held");
    if (lost.length) {
      // Nothing to stop: the host is down. The orphans job removes them if it comes back.
      await markProcsRemoved(deps.db, lost.map((p) => p.id), "failed");
      await ctx.progress(`${plural(lost.length, "proc")} lost with ${[...new Set(lost.map((p) => p.host))].join(", ")}: replacing`);
    }
    const restarted: string[] = [];
    const replaced: string[] = [];
    /** Where procs failed again after a restart: the start step places their replacements elsewhere. */
    const failedAt: FailedPlace[] = [];
    // A port held outside the proc's program: a leftover of its own earlier run is ended, then the
    // proc restarted; anything else holding it is not ours, so the proc moves to another port.
    for (const { proc: p, holder } of held) {
      const h = hostHandle(deps, ctx.squad, p.host);
      const r = await killLeftover(h.host, h.root, holder).catch((err: Error) => ({ killed: false as const, why: err.message }));
      if (r.killed) {
        await ctx.progress(`${p.name} on ${p.host}: ended pid ${holder.pid} (kill ${r.target}), left over from an earlier run and holding port ${p.port}`);
        if (!crashed.some((c) => c.proc.id === p.id)) crashed.push({ proc: p, state: "shadowed by that leftover", stopFirst: true });
        continue;
      }
      await ctx.progress(`${p.name} on ${p.host}: port ${p.port} is held by pid ${holder.pid} (${r.why}): replacing it on another port`);
      await addBusyPort(deps.db, ctx.squad.name, p.host, p.port!);
      await unroute(ctx, [p]);
      const { failed } = await removeProcs(deps, ctx.squad, [p]);
      if (failed.length) await markProcsRemoved(deps.db, [p.id], "failed");
      replaced.push(p.name);
      const i = crashed.findIndex((c) => c.proc.id === p.id);
      if (i >= 0) crashed.splice(i, 1);
    }
    await unroute(ctx, crashed.map((f) => f.proc));
    const build = crashed.length ? await buildOf(deps.db, release) : undefined;
    await Promise.all(
      crashed.map(async ({ proc: p, state, stopFirst }) => {
        const h = hostHandle(deps, ctx.squad, p.host);
        let ok = false;
        try {
          // Still RUNNING (its launcher restarted by supervisord): start anew so it binds the freed port.
          if (stopFirst) await runner.stopProc(h.host, h.supervisor, { name: p.name });
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
        failedAt.push({ host: p.host, ...(p.port ? { port: p.port } : {}) });
        await ctx.progress(`${p.name} on ${p.host} failed again after a restart: replacing it`);
      }),
    );
    const parts = [
      restarted.length ? `${restarted.length} restarted` : "",
      replaced.length ? `${replaced.length} failing to replace` : "",
      lost.length ? `${lost.length} lost to replace` : "",
    ].filter(Boolean);
    return { result: { restarted, replaced, failedAt, lost: lost.map((p) => p.name) }, summary: parts.join(", ") || "no crashed or lost procs" };
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
    // Crashed procs serve nothing: no wait for what still routes to them (drainMs 0).
    if (present.length) await balancer.deleteNodes(pool, present, { drainMs: 0 });
  });
}
