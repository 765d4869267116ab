import { updateDeployment } from "../../../db/queries/deployments.ts";
import { environmentLock } from "../../../db/queries/locks.ts";
import { resolveRef } from "../../builds/git.ts";
import { EngineError } from "../../errors.ts";
import type { Step } from "../step.ts";

/** The ref to a commit; and a last look at the lock, which someone may have taken while we queued. */
export const resolveStep: Step = {
  name: "resolve",
  async run(ctx) {
    const { deps, deployment: d } = ctx;
    const lock = await environmentLock(deps.db, d.app, d.env);
    if (lock) throw new EngineError("lock_held", `${d.app} ${d.env} was locked by ${lock.heldBy}${lock.reason ? ` (${lock.reason})` : ""} while this deployment waited.`);
    const ref = d.params.ref ?? ctx.environment.ref;
    const { commit, shortSha } = await resolveRef(ctx.app.repo, ref, { dataDir: deps.dataDir });
    await updateDeployment(deps.db, d.id, { commit });
    return { result: { ref, commit, shortSha }, summary: `${ref} → ${shortSha}` };
  },
};
