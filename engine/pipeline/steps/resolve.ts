import { and, eq } from "drizzle-orm";
import { deployments, locks } from "../../../db/schema/index.ts";
import { resolveRef } from "../../builds/git.ts";
import { EngineError } from "../../errors.ts";
import type { Step } from "../step.ts";

/** The ref to a commit; and a last look at the lock, which someone may have taken while we queued. */
export const resolveStep: Step = {
  name: "resolve",
  async run(ctx) {
    const { deps, deployment: d } = ctx;
    const [lock] = await deps.db.select().from(locks).where(and(eq(locks.app, d.app), eq(locks.env, d.env)));
    if (lock) throw new EngineError("lock_held", `${d.app} ${d.env} was locked by ${lock.heldBy}${lock.reason ? ` (${lock.reason})` : ""} while this deployment waited.`);
    const ref = d.params.ref ?? ctx.environment.ref;
    const { commit, shortSha } = await resolveRef(ctx.app.repo, ref, { dataDir: deps.dataDir });
    await deps.db.update(deployments).set({ commit }).where(eq(deployments.id, d.id));
    return { result: { ref, commit, shortSha }, summary: `${ref} → ${shortSha}` };
  },
};
