import { configFor, environmentOf } from "../../playbooks/resolve.ts";
import { layerConfig, overridesFor } from "../config-layers.ts";
import type { EngineApiDeps } from "../context.ts";
import { promoteNext, takeTurn } from "../line.ts";
import { EngineError, toEngineError } from "../errors.ts";
import { emit } from "../events.ts";
import type { EngineEventBody, HostProcs, StepName } from "../event-types.ts";
import { pendingSecrets, redactorFor } from "../redact.ts";
import { currentRelease, releaseById } from "../../db/queries/releases.ts";
import { deploymentById, endDeploymentWhileOpen } from "../../db/queries/deployments.ts";
import { beginStepUnlessCancelled, markUnfinishedSteps, stepOf, stepsOf, updateStep } from "../../db/queries/deployment-steps.ts";
import { applyConfigChange, replaceConfigVars } from "../../db/queries/config-vars.ts";
import { setSwarmSizes } from "../../db/queries/swarms.ts";
import { getBuild } from "../../db/queries/builds.ts";
import { liveProcs } from "../../db/queries/procs.ts";
import type { DeploymentRow } from "../../db/schema/index.ts";
import { announceRepairEnd } from "../beat/repair-news.ts";
import { compensate } from "./compensate.ts";
import { endOnce } from "./end.ts";
import { revertTarget } from "../changes/describe.ts";
import type { StepContext, StepResults } from "./step.ts";
import { steps } from "./steps/index.ts";

export type RunOutcome =
  /** Another deployment of the same app+env is ahead: try again later. */
  | { kind: "wait"; behind: string }
  | { kind: "done"; status: DeploymentRow["status"] }
  /** A transient failure: the job should be retried (the step stays pending). */
  | { kind: "retry"; error: Error }
  /** This worker lost its claim on the job (it stalled and another worker took over): stop, touch nothing. */
  | { kind: "lost" };

/**
 * Runs a deployment from its checkpoint to its end. Each step's outcome is persisted before the
 * next begins; a worker that dies mid-step leaves that step `running`, and whoever picks the job
 * up re-runs it (steps are idempotent). Failure or cancellation compensates, then reports.
 */
export async function runDeployment(
  deps: EngineApiDeps,
  id: string,
  opts: { finalAttempt: boolean; stillOwner?: () => Promise<boolean> },
): Promise<RunOutcome> {
  let d = await deploymentById(deps.db, id);
  if (!d) throw new EngineError("not_found", `deployment ${id} does not exist`);
  if (d.status !== "queued" && d.status !== "running") return { kind: "done", status: d.status };

  const turn = await takeTurn(deps, d);
  if (turn.kind === "wait") return turn;
  if (turn.kind === "gone") return { kind: "done", status: (await deploymentById(deps.db, id))!.status };

  const found = environmentOf(deps.playbook, d.app, d.env);
  const redact = await redactorFor(deps, d.app, d.env, pendingSecrets(d.params));
  const say = (body: EngineEventBody) => emit(deps, id, body, redact).then(() => undefined);
  if (!found) {
    const gone = d;
    return ending(deps, id, "the pipeline", async () => (await finish(deps, gone, say, "failed", new EngineError("not_found", `${gone.app} ${gone.env} is no longer in the playbook`))).outcome);
  }
  const squad = deps.playbook.squads[found.environment.squad]!;

  if (turn.kind === "started") {
    await say({ type: "deployment.started" });
  } else {
    // Name the step it picks up at: the first one not yet done by the worker that stopped.
    const pending = await stepsOf(deps.db, id);
    const at = (pending.find((r) => r.status !== "succeeded" && r.status !== "skipped")?.name ?? "resolve") as StepName;
    await say({ type: "step.progress", step: at, message: `resumed at ${at.replace(/_/g, " ")} by another worker (the previous one stopped)` });
    deps.logger.warn({ deploymentId: id, app: d.app, env: d.env, step: at, recovery: "resumed" }, `deployment resumed at ${at}: the worker that ran it stopped`);
  }
  d = (await deploymentById(deps.db, id))!;

  const rows = await stepsOf(deps.db, id);
  const results: StepResults = {};
  let current: StepName | undefined;
  const ctx: StepContext = {
    deps,
    deployment: d,
    app: found.app,
    environment: found.environment,
    squad,
    results,
    emit: say,
    progress: (message) => say({ type: "step.progress", step: current ?? "resolve", message: redact(message) }),
    log: (title, text) => say({ type: "step.log", step: current ?? "resolve", title, text: redact(text) }),
    redact,
  };

  for (const row of rows) {
    const name = row.name as StepName;
    if (row.status === "succeeded" || row.status === "skipped") {
      results[name] = row.result ?? {};
      continue;
    }
    // A worker that stalled past its lock (a long pause) may find another worker already running
    // this deployment from the checkpoint: it must not run a step next to it.
    if (opts.stillOwner && !(await opts.stillOwner())) return { kind: "lost" };
    // Once traffic has moved to the new procs (route succeeded), the deployment has happened:
    // a cancel no longer undoes it and a later failure (teardown) only leaves warnings.
    const routed = results.route !== undefined;
    // The check for a cancel and the step's start are one step against cancelDeployment (both
    // hold the row's lock): a cancel lands before the step begins, or is told the step is under way.
    const begin = await beginStepUnlessCancelled(deps.db, id, name, !routed);
    // Ended by someone else while this worker was in a step (the beat's expire job failed it as
    // stuck and compensated it): its verdict stands; touching anything would say a second one.
    if (begin.kind === "ended") return { kind: "done", status: begin.deployment.status };
    if (begin.kind === "cancel") {
      // The beat's expire job also asks it to stop, then ends it itself: whoever claims the end first ends it.
      const asked = d;
      // The notes of the cleanup belong to the step that last ran (its procs are the ones removed).
      const at = current ?? name;
      return ending(deps, id, "the pipeline (cancel)", async () => {
        await markRest(deps, id, "skipped");
        const notes = await undo(ctx, "cancelled");
        return (await finish(deps, asked, say, "cancelled", undefined, notes, at)).outcome;
      });
    }
    ctx.deployment = begin.deployment;
    current = name;
    const t0 = Date.now();
    await say({ type: "step.started", step: name });
    try {
      const out = await steps[name].run(ctx);
      results[name] = out.result ?? {};
      await updateStep(deps.db, id, name, { status: "succeeded", result: out.result ?? {}, finishedAt: new Date() });
      await say({ type: "step.finished", step: name, durationMs: Date.now() - t0, summary: out.summary && redact(out.summary) });
    } catch (raw) {
      const err = toEngineError(raw);
      // Evidence kept out of the thread (a git argv with Raptor's paths): raptor.log only.
      if (err.opts.detail) deps.logger.warn({ deploymentId: id, app: d.app, env: d.env, step: name, code: err.code, detail: redact(err.opts.detail) }, `step ${name} failed: ${redact(err.message)}`);
      const now = await deploymentById(deps.db, id);
      if (endedElsewhere(now)) return { kind: "done", status: now!.status };
      if (err.retryable && !opts.finalAttempt) {
        await updateStep(deps.db, id, name, { status: "pending", error: redact(err.message) });
        await say({ type: "step.progress", step: name, message: `${redact(err.message)} — retrying` });
        return { kind: "retry", error: err };
      }
      const failStep = async () => {
        await updateStep(deps.db, id, name, { status: "failed", error: redact(err.message), finishedAt: new Date() });
        await say({ type: "step.failed", step: name, durationMs: Date.now() - t0, message: redact(err.message), output: err.opts.output && redact(err.opts.output) });
      };
      if (routed) {
        await failStep();
        await say({ type: "step.progress", step: name, message: "the new release is already serving; old procs may be left behind for the beat to sweep" });
        continue;
      }
      // A step can fail because another is ending the deployment (the expire job's compensation
      // removes the procs an uptest is checking): only the one that claims the end says anything.
      const failed = d;
      return ending(deps, id, `the pipeline (${name} failed)`, async () => {
        await failStep();
        await markRest(deps, id, "skipped");
        const notes = await undo(ctx, `failed at ${name}`);
        return (await finish(deps, failed, say, "failed", err, notes, name)).outcome;
      });
    }
  }
  const done = d;
  return ending(deps, id, "the pipeline (succeeded)", async () => {
    await commitDesiredState(deps, done);
    return (await finish(deps, done, say, "succeeded", undefined, [], undefined, results)).outcome;
  });
}

/** endOnce for the pipeline: the outcome of the end it ran, or `done` with the status it found. */
async function ending(deps: EngineApiDeps, id: string, who: string, end: () => Promise<RunOutcome>): Promise<RunOutcome> {
  const r = await endOnce(deps, id, who, end);
  return r.ended ? r.value : { kind: "done", status: r.status };
}

/** Whether a deployment this worker runs was ended by another (abandonDeployment): no longer running. */
function endedElsewhere(d: DeploymentRow | undefined): boolean {
  return d !== undefined && d.status !== "running";
}

/**
 * What a successful deployment makes the new normal: a scale's sizes, a config change's values,
 * a rollback's config (the rolled-back release's config becomes the environment's: `config` shows
 * it and the next plain deploy keeps it). Written only on success, so a failed `config set`,
 * `scale` or rollback leaves later deploys as they were.
 */
async function commitDesiredState(deps: EngineApiDeps, d: DeploymentRow): Promise<void> {
  if (d.kind === "scale") {
    await setSwarmSizes(deps.db, d.app, d.env, d.params.scale ?? {}, d.requestedBy);
    return;
  }
  if (d.kind === "rollback") {
    // The row this run loaded may predate the release step; read the release it cut.
    const now = await deploymentById(deps.db, d.id);
    if (!now?.toReleaseId) return;
    // Releases and builds are immutable: read outside the config's transaction.
    const release = await releaseById(deps.db, now.toReleaseId);
    const build = release ? await getBuild(deps.db, release.buildId) : undefined;
    if (!release || !build) return;
    const base = layerConfig(build.configVars ?? {}, configFor(deps.playbook, d.app, d.env).env, {});
    await replaceConfigVars(deps.db, d.app, d.env, overridesFor(release.config, base), d.requestedBy);
    return;
  }
  if (d.kind !== "config") return;
  await applyConfigChange(deps.db, d.app, d.env, { vars: d.params.vars ?? {}, secretKeys: d.params.secretKeys ?? [], unset: d.params.keys ?? [] }, d.requestedBy);
}

/**
 * The last resort for a deployment whose job can no longer run (its final attempt threw outside
 * any step, or BullMQ gave up on a stalled job): clean up what it started and end it as failed,
 * so its app+env's line moves on instead of waiting behind it forever. True when this call ended
 * it; false when it had ended, or another (the worker still on it, another ender) is ending it.
 */
export async function abandonDeployment(deps: EngineApiDeps, id: string, reason: string): Promise<boolean> {
  const first = await deploymentById(deps.db, id);
  if (!first || (first.status !== "running" && first.status !== "queued")) return false;
  const r = await endOnce(deps, id, "abandon", async () => abandon(deps, (await deploymentById(deps.db, id))!, reason));
  return r.ended && r.value;
}

/** abandonDeployment's end, run by whoever claimed it. True when this call wrote the verdict. */
async function abandon(deps: EngineApiDeps, d: DeploymentRow, reason: string): Promise<boolean> {
  const id = d.id;
  const found = environmentOf(deps.playbook, d.app, d.env);
  const redact = await redactorFor(deps, d.app, d.env, pendingSecrets(d.params));
  const say = (body: EngineEventBody) => emit(deps, id, body, redact).then(() => undefined);
  const route = await stepOf(deps.db, id, "route");
  if (route?.status === "succeeded") {
    // Traffic already moved: the deployment happened; finish it as such.
    await commitDesiredState(deps, d);
    return (await finish(deps, d, say, "succeeded")).said;
  }
  await markRest(deps, id, "skipped");
  let notes: string[] = [];
  if (found) {
    const ctx: StepContext = {
      deps,
      deployment: d,
      app: found.app,
      environment: found.environment,
      squad: deps.playbook.squads[found.environment.squad]!,
      results: {},
      emit: say,
      progress: (message) => say({ type: "step.progress", step: "resolve", message: redact(message) }),
      log: (title, text) => say({ type: "step.log", step: "resolve", title, text: redact(text) }),
      redact,
    };
    notes = await undo(ctx, "abandoned");
  }
  return (await finish(deps, d, say, "failed", new EngineError("internal", `the deployment could not go on: ${redact(reason)}`), notes)).said;
}

/**
 * Compensation (compensate.ts), recorded in raptor.log as a recovery with what it did, and never
 * throwing: a cleanup that fails is one more note for the thread.
 */
async function undo(ctx: StepContext, why: string): Promise<string[]> {
  const notes = await compensate(ctx).catch((e) => [`cleanup failed: ${(e as Error).message}`]);
  const d = ctx.deployment;
  ctx.deps.logger.warn({ deploymentId: d.id, app: d.app, env: d.env, recovery: "compensated", why, notes }, notes.length ? `compensated: ${notes.join("; ")}` : "compensated: nothing had started");
  return notes;
}

async function markRest(deps: EngineApiDeps, id: string, status: "skipped"): Promise<void> {
  await markUnfinishedSteps(deps.db, id, status);
}

/**
 * Writes a deployment's final status and says its verdict, once: the conditional UPDATE
 * (endDeploymentWhileOpen) lets one call through; any other logs and says nothing (`said: false`).
 * Then moves the line on. Callers hold the end's claim (endOnce).
 */
async function finish(
  deps: EngineApiDeps,
  d: DeploymentRow,
  say: (b: EngineEventBody) => Promise<void>,
  status: "succeeded" | "failed" | "cancelled",
  err?: EngineError,
  notes: string[] = [],
  step?: StepName,
  results?: StepResults,
): Promise<{ outcome: RunOutcome; said: boolean }> {
  const finishedAt = new Date();
  const durationMs = finishedAt.getTime() - (d.startedAt ?? d.createdAt).getTime();
  // The stored error passes the redactor over every app's secrets, like every stored message.
  const redact = err ? await redactorFor(deps, d.app, d.env, pendingSecrets(d.params)) : (t: string) => t;
  // Compare-and-set: the verdict is said by the one call that moved the row to a final status.
  const fresh = await endDeploymentWhileOpen(deps.db, d.id, { status, finishedAt, errorCode: err?.code ?? null, error: err ? redact(err.message) : null });
  if (!fresh) {
    const now = (await deploymentById(deps.db, d.id))?.status ?? status;
    deps.logger.warn({ deploymentId: d.id, wanted: status, status: now, recovery: "ended-elsewhere" }, `deployment ${d.id} had already ended (${now}); its verdict stands and ${status} is not said`);
    return { outcome: { kind: "done", status: now }, said: false };
  }
  if (status === "succeeded") {
    const from = fresh.fromReleaseId ? await releaseById(deps.db, fresh.fromReleaseId) : undefined;
    // Restart (and a scale or repair that never set a target) runs the serving release: it is the
    // release after as well as before, never a "replaced" one.
    const to = fresh.toReleaseId ? await releaseById(deps.db, fresh.toReleaseId) : keepsRelease(d.kind) ? from : undefined;
    const live = to ? await liveProcs(deps.db, d.app, d.env, to.id) : [];
    const hosts: HostProcs[] = [...new Set(live.map((p) => p.host))].map((host) => ({
      host,
      procs: live.filter((p) => p.host === host).map((p) => (p.port ? `${p.procType}:${p.port}` : p.procType)),
    }));
    const url = deps.playbook.apps[d.app]?.environments[d.env]?.url;
    // Nothing changed: the release that served still serves, and no proc was started or removed.
    const started = (results?.start?.procIds as unknown[] | undefined)?.length ?? 0;
    const removed = Number(results?.teardown?.removed ?? 0);
    const unchanged = to !== undefined && from?.id === to.id && started === 0 && removed === 0 && (d.kind === "deploy" || d.kind === "config");
    // What the Rollback button would go back to, for its confirmation (never fatal: it is a description).
    const revert = to && from && from.id !== to.id ? await revertTarget(deps, to, from).catch(() => undefined) : undefined;
    // An environment behind a balancer with no listening proc left (scaled to 0) serves nothing.
    const pool = deps.playbook.apps[d.app]?.environments[d.env]?.pool;
    const idle = pool && !live.some((p) => p.port) ? { pool, zeroed: Object.entries(d.params.scale ?? {}).filter(([, n]) => n === 0).map(([t]) => t) } : undefined;
    await say({ type: "deployment.succeeded", release: to?.number, previousRelease: from && from.id !== to?.id ? from.number : undefined, commit: fresh.commit?.slice(0, 7), hosts, durationMs, ...(url ? { url } : {}), ...(unchanged ? { unchanged: true } : {}), ...(revert ? { revert } : {}), ...(idle ? { idle } : {}) });
  } else if (status === "cancelled") {
    for (const n of notes) await say({ type: "step.progress", step: step ?? "resolve", message: n });
    await say({ type: "deployment.cancelled", by: "request", durationMs });
  } else {
    const output = [err?.opts.output, notes.length ? notes.map((n) => `cleanup: ${n}`).join("\n") : undefined].filter(Boolean).join("\n\n");
    const message = `${err?.message ?? "failed"}${keepsRelease(d.kind) ? "" : await stillServes(deps, d.app, d.env, fresh.toReleaseId)}`;
    await say({ type: "deployment.failed", code: err?.code ?? "internal", message, step, output: output || undefined, durationMs });
  }
  // A repair's thread lives in the environment's first channel; the others hear how it ended.
  if (d.kind === "repair") await announceRepairEnd(deps, d.app, d.env, d.id, status, err ? redact(err.message) : undefined).catch(() => {});
  await promoteNext(deps, d.app, d.env);
  return { outcome: { kind: "done", status }, said: true };
}

/**
 * " v6 still serves." when, after a failure and its cleanup, the environment's release is another
 * than the failed one and its procs still run (trial 2, M4: the summary never said the old release
 * kept serving, though it did); "" otherwise (never deployed, scaled to 0, or the new one serves).
 */
async function stillServes(deps: EngineApiDeps, app: string, env: string, failedReleaseId: string | null): Promise<string> {
  const current = await currentRelease(deps.db, app, env).catch(() => undefined);
  if (!current || current.id === failedReleaseId) return "";
  const live = await liveProcs(deps.db, app, env, current.id).catch(() => []);
  return live.length > 0 ? ` v${current.number} still serves.` : "";
}

/** Kinds that run the serving release instead of cutting one (plan-steps.ts: no release step). */
function keepsRelease(kind: DeploymentRow["kind"]): boolean {
  return kind === "scale" || kind === "restart" || kind === "repair";
}
