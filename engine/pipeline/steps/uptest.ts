import { liveProcsOfDeployment, setProcStatus } from "../../../db/queries/procs.ts";
import { plural } from "../../../lib/plural.ts";
import { EngineError } from "../../errors.ts";
import { forEachHost, hostHandle } from "../../fleet.ts";
import type { Step } from "../step.ts";
import { checkProc, ownProcs, targetRelease } from "../swarm.ts";
import { uptestFailureText } from "../uptest-failure-text.ts";

/** Failed procs whose output goes into the thread; the rest are counted. */
const MAX_FAILURES_SHOWN = 3;

/**
 * Every new proc must be RUNNING under supervisord with its port open, then pass the app's
 * uptests (or the environment's health check). Results are recorded per proc; any failure fails
 * the step with the failing uptest's output, and the pipeline removes the new procs.
 */
export const uptestStep: Step = {
  name: "uptest",
  async run(ctx) {
    const release = await targetRelease(ctx);
    const mine = await ownProcs(ctx, release);
    const results = (await forEachHost(mine, (p) => p.host, (hostName, list) => {
      const h = hostHandle(ctx.deps, ctx.squad, hostName);
      return Promise.all(list.map((p) => checkProc(ctx, h, p, { movePortTaken: true })));
    })).flat();
    const failed = results.filter((r) => !r.result.passed);
    const ran = results.filter((r) => r.result.name !== "running").length;
    if (failed.length) {
      // Every failed proc's evidence (up to a few), taken now: compensation removes the procs and their logs.
      const said = uptestFailureText(failed, results.length, MAX_FAILURES_SHOWN);
      throw new EngineError("uptest_failed", ctx.redact(said.message), { output: ctx.redact(said.output) });
    }
    // By deployment, not `mine`: a proc moved to another port has a new row.
    const live = await liveProcsOfDeployment(ctx.deps.db, ctx.deployment.id);
    await setProcStatus(ctx.deps.db, live.map((p) => p.id), "running");
    return { result: { passed: results.length }, summary: ran ? `${plural(ran, "uptest")} passed on ${plural(mine.length, "proc")}` : mine.length ? `${plural(mine.length, "proc")} running (no uptests)` : "no new procs to test" };
  },
};
