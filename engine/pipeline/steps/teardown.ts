import { removeProcs } from "../../remove-procs.ts";
import type { Step } from "../step.ts";
import { servingSet } from "../swarm.ts";
import { plural } from "../../../lib/plural.ts";

/**
 * Removes the procs routing took out of service, after the environment's drain delay so their
 * in-flight requests finish. A host that cannot be reached leaves its old procs behind with a
 * warning in the thread; the new release is already serving, so the deployment still succeeds.
 */
export const teardownStep: Step = {
  name: "teardown",
  async run(ctx) {
    const { drop } = await servingSet(ctx);
    if (drop.length === 0) return { summary: "nothing to tear down" };
    const drainMs = ctx.deps.options.drainMs ?? ctx.environment.drain_ms;
    if (drainMs > 0) {
      await ctx.progress(`draining ${plural(drop.length, "old proc")} for ${drainMs / 1000}s`);
      await new Promise((r) => setTimeout(r, drainMs));
    }
    const { removed, failed } = await removeProcs(ctx.deps, ctx.squad, drop);
    for (const f of failed) await ctx.progress(`could not remove ${f.proc.name} on ${f.proc.host}: ${ctx.redact(f.error)}`);
    return { result: { removed, failed: failed.length }, summary: `${plural(removed, "old proc")} removed${failed.length ? `, ${failed.length} left behind` : ""}` };
  },
};
