import { updateDeployment } from "../../../db/queries/deployments.ts";
import { environmentLock } from "../../../db/queries/locks.ts";
import { resolveRef } from "../../builds/git.ts";
import { workingCopyCommit } from "../../builds/working-copy.ts";
import { getBuild } from "../../../db/queries/builds.ts";
import { currentRelease } from "../../../db/queries/releases.ts";
import { EngineError } from "../../errors.ts";
import type { Step } from "../step.ts";
import { promotionProblem } from "../../changes/promotion.ts";

/**
 * The ref to a commit (a promote brings its commit); a last look at the lock, which someone may
 * have taken while we queued; and the environment's `promote_from` rule.
 */
export const resolveStep: Step = {
  name: "resolve",
  async run(ctx) {
    const { deps, deployment: d } = ctx;
    const lock = await environmentLock(deps.db, d.app, d.env, deps.now?.() ?? new Date());
    if (lock) throw new EngineError("lock_held", `${d.app} ${d.env} was locked by ${lock.heldBy}${lock.reason ? ` (${lock.reason})` : ""} while this deployment waited.`);
    const promote = d.params.promote;
    if (promote) {
      // The commit of the build that served the source environment: nothing to resolve.
      await updateDeployment(deps.db, d.id, { commit: promote.commit });
      const ref = `${promote.env} v${promote.release}`;
      return { result: { ref, commit: promote.commit, shortSha: promote.commit.slice(0, 7) }, summary: `promoting ${ref} → ${promote.commit.slice(0, 7)}` };
    }
    if (ctx.app.working_copy) {
      // The directory as it is now: its edits since the last deploy become a new snapshot commit,
      // and files exactly as the serving release's are that release's commit (nothing changed).
      const serving = await currentRelease(deps.db, d.app, d.env);
      const servingCommit = serving ? (await getBuild(deps.db, serving.buildId))?.commit : undefined;
      const { commit, shortSha } = await workingCopyCommit(ctx.app, deps.dataDir, servingCommit);
      await updateDeployment(deps.db, d.id, { commit });
      return { result: { ref: "working copy", commit, shortSha }, summary: `working copy ${ctx.app.repo} → ${shortSha}` };
    }
    const ref = d.params.ref ?? ctx.environment.ref;
    const { commit, shortSha } = await resolveRef(ctx.app.repo, ref, { dataDir: deps.dataDir });
    // `promote_from`: a plain deploy (forced or not) ships only a commit that served there.
    const problem = await promotionProblem(deps.db, ctx.environment, commit);
    if (problem) throw new EngineError("not_promoted", problem);
    await updateDeployment(deps.db, d.id, { commit });
    return { result: { ref, commit, shortSha }, summary: `${ref} → ${shortSha}` };
  },
};
