import { and, eq, isNull } from "drizzle-orm";
import { procs, uptestResults } from "../../../db/schema/index.ts";
import { runHealthcheck, runUptests, type UptestResult } from "../../../runners/uptest.ts";
import { saysPortTaken } from "../../../runners/listeners.ts";
import { procPaths } from "../../../runners/proc-layout.ts";
import { EngineError } from "../../errors.ts";
import { hostHandle, forEachHost, runner } from "../../fleet.ts";
import { liveProcs } from "../../state.ts";
import type { ProcRow } from "../../../db/schema/index.ts";
import { moveToFreePort } from "../move-proc.ts";
import type { Step, StepContext } from "../step.ts";
import { targetRelease } from "./start.ts";

/** The playbook's per-run cap on one uptest script (`uptest_run_timeout`), when it sets one. */
export const runCap = (e: { uptest_run_timeout_ms?: number }) => (e.uptest_run_timeout_ms === undefined ? {} : { runTimeoutMs: e.uptest_run_timeout_ms });

/** Failed procs whose output goes into the thread; the rest are counted. */
const MAX_FAILURES_SHOWN = 3;

/** Why a proc did not come up, with its log tail (a ProcError's output) under the reason. */
export function procFailureText(err: unknown): string {
  const e = err as { message?: string; output?: string };
  const message = e?.message ?? String(err);
  return e?.output ? `${message}\n\nits output:\n${e.output}` : message;
}

/**
 * Every new proc must be RUNNING under supervisord with its port open, then pass the app's
 * uptests (or the environment's health check). Results are recorded per proc; any failure fails
 * the step with the failing uptest's output, and the pipeline removes the new procs.
 */
export const uptestStep: Step = {
  name: "uptest",
  async run(ctx) {
    const release = await targetRelease(ctx);
    const mine = (await liveProcs(ctx.deps.db, ctx.deployment.app, ctx.deployment.env, release.id)).filter((p) => p.deploymentId === ctx.deployment.id);
    const results = (await forEachHost(mine, (p) => p.host, (hostName, list) => Promise.all(list.map((p) => checkProc(ctx, hostName, p, { movePortTaken: true }))))).flat();
    const failed = results.filter((r) => !r.result.passed);
    const ran = results.filter((r) => r.result.name !== "running").length;
    if (failed.length) {
      const first = failed[0]!;
      // Every failed proc's evidence (up to a few), taken now: compensation removes the procs and their logs.
      const shown = failed.slice(0, MAX_FAILURES_SHOWN);
      const output = ctx.redact(
        shown.length === 1
          ? first.result.output
          : shown.map((f) => `── ${f.proc.name} on ${f.proc.host}: ${f.result.name}\n${f.result.output}`).join("\n\n"),
      );
      const what = first.result.name === "running" ? "did not come up" : `${first.result.name} failed`;
      throw new EngineError("uptest_failed", `${first.proc.name} on ${first.proc.host} ${what} (${failed.length} of ${results.length} checks failed).`, { output });
    }
    await ctx.deps.db.update(procs).set({ status: "running" }).where(and(eq(procs.deploymentId, ctx.deployment.id), isNull(procs.removedAt)));
    return { result: { passed: results.length }, summary: ran ? `${ran} uptest${ran === 1 ? "" : "s"} passed on ${mine.length} procs` : `${mine.length} procs running (no uptests)` };
  },
};

/**
 * Waits for one proc to be RUNNING with its port open, then runs its uptests (or the health
 * check); records the results. With `movePortTaken` (new procs of this deployment), a proc that
 * died because its port was taken is moved to another port once (moveToFreePort), and the result
 * is the moved proc's.
 */
export async function checkProc(ctx: StepContext, hostName: string, first: ProcRow, o: { movePortTaken?: boolean } = {}): Promise<{ proc: ProcRow; result: UptestResult }> {
  const h = hostHandle(ctx.deps, ctx.squad, hostName);
  const opts = ctx.deps.options;
  let p = first;
  const record = async (r: UptestResult) => {
    await ctx.deps.db.insert(uptestResults).values({ procId: p.id, deploymentId: ctx.deployment.id, name: r.name, passed: r.passed, output: ctx.redact(r.output), exitCode: r.exitCode });
    return { proc: p, result: r };
  };
  for (let moved = false; ; moved = true) {
    try {
      await runner.waitRunning(h.supervisor, p.name, { timeoutMs: opts.startTimeoutMs, host: hostName });
      if (p.port) await runner.waitPort(h.host, { host: hostName, port: p.port, timeoutMs: opts.startTimeoutMs, supervisor: h.supervisor, name: p.name });
      break;
    } catch (err) {
      const why = procFailureText(err);
      // Its port was taken after the check (or is held without listening): once, on another port.
      if (o.movePortTaken && !moved && p.port && saysPortTaken(why)) {
        await record({ name: "running", passed: false, output: why, exitCode: -1 });
        p = await moveToFreePort(ctx, h, p);
        continue;
      }
      return record({ name: "running", passed: false, output: why, exitCode: -1 });
    }
  }
  if (!p.port) return { proc: p, result: { name: "running", passed: true, output: "", exitCode: 0 } };
  const paths = procPaths(h.root, p.name);
  const deadlineMs = ctx.environment.uptest_timeout_ms;
  let results = await runUptests(h.host, { procDir: paths.dir, procType: p.procType, hostName, port: p.port, envFile: paths.envFile, ...runCap(ctx.environment), deadlineMs });
  if (results.length === 0 && ctx.environment.healthcheck) {
    results = [await runHealthcheck({ hostName, port: p.port, path: ctx.environment.healthcheck, deadlineMs })];
  }
  if (results.length === 0) return { proc: p, result: { name: "running", passed: true, output: "", exitCode: 0 } };
  let worst: { proc: ProcRow; result: UptestResult } | undefined;
  for (const r of results) {
    const rec = await record(r);
    if (!r.passed && !worst) worst = rec;
  }
  return worst ?? { proc: p, result: results[0]! };
}
