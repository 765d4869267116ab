import { updateDeployment } from "../../../db/queries/deployments.ts";
import { sourceRepo } from "../../builds/working-copy.ts";
import type { Step } from "../step.ts";
import { getBuild } from "../../../db/queries/builds.ts";
import { EngineError } from "../../errors.ts";

/**
 * Builds the commit on the builds queue (any worker), or reuses the build of the same app +
 * commit + buildpack. Two deployments of one commit wait on the same build job.
 */
export const buildStep: Step = {
  name: "build",
  async run(ctx) {
    const { deps, deployment: d } = ctx;
    const promote = d.params.promote;
    if (promote) {
      // The very artifact that served the source environment; a pruned one is not rebuilt here.
      const build = await getBuild(deps.db, promote.buildId);
      if (!build || build.status !== "succeeded" || build.prunedAt) {
        throw new EngineError("build_missing", `the build of ${d.app} ${promote.env} v${promote.release} is no longer stored; deploy ${promote.commit.slice(0, 7)} to ${promote.env} again to rebuild it.`);
      }
      await updateDeployment(deps.db, d.id, { buildId: build.id });
      return { result: { buildId: build.id, reused: true, buildpack: build.detected ?? build.buildpack }, summary: `promoted build ${build.id.slice(0, 8)} from ${promote.env} v${promote.release} (no rebuild)` };
    }
    const commit = String(ctx.results.resolve?.commit ?? d.commit);
    const r = await deps.queues.build({ deploymentId: d.id, app: d.app, repo: sourceRepo(ctx.app, deps.dataDir), commit, buildpack: ctx.app.buildpack });
    await updateDeployment(deps.db, d.id, { buildId: r.buildId });
    if (!r.reused && r.logTail.length) await ctx.log("build log (tail)", r.logTail.join("\n"));
    const short = r.buildId.slice(0, 8);
    return {
      result: { buildId: r.buildId, reused: r.reused, buildpack: r.buildpack },
      summary: r.reused ? `reused build ${short}` : `built ${short} with ${r.buildpack}`,
    };
  },
};
