import { recordUptestResult } from "../../db/queries/uptest-results.ts";
import { liveProcs } from "../../db/queries/procs.ts";
import { scaledSizes } from "../../db/queries/swarms.ts";
import { currentRelease, releaseById } from "../../db/queries/releases.ts";
import { updateDeployment } from "../../db/queries/deployments.ts";
import type { Db } from "../../db/client.ts";
import type { ProcRow, ReleaseRow } from "../../db/schema/index.ts";
import type { Environment } from "../../playbooks/types.ts";
import { asProcUser } from "../../runners/process-runner.ts";
import { procPaths } from "../../runners/proc-layout.ts";
import { runHealthcheck, runUptests, type UptestResult } from "../../runners/uptest.ts";
import { saysPortTaken } from "../../runners/listeners.ts";
import { EngineError } from "../errors.ts";
import { runner, type HostHandle } from "../fleet.ts";
import { pickForRemoval } from "../placement.ts";
import { moveToFreePort } from "./move-proc.ts";
import type { StepContext } from "./step.ts";

/**
 * What several pipeline steps (and the beat's jobs) share about a deployment's swarm: the release
 * it rolls out and the sizes it aims for, the procs that serve after it, its own new procs, a proc
 * as a pool node, and the one check that says whether a proc is healthy. Steps never import one
 * another; they import this.
 */

/** What these helpers read: the engine's deps, the deployment, its environment. */
export type SwarmScope = Pick<StepContext, "deps" | "deployment" | "environment">;

/**
 * Whether a proc type listens on a port (and so gets PORT, uptests against it, and a pool node):
 * the environment's `listen` list (playbook key; the app's, else [web], when the environment has none).
 */
export const listens = (environment: Pick<Environment, "listen">, procType: string): boolean => environment.listen.includes(procType);

/** A proc as a balancer node, `host:port`; a proc without a port is no node. */
export function nodeOf(p: Pick<ProcRow, "host" | "port">): string | undefined {
  return p.port ? `${p.host}:${p.port}` : undefined;
}

/** The pool nodes of these procs, in their order (procs without a port left out). */
export function nodesOfProcs(list: readonly Pick<ProcRow, "host" | "port">[]): string[] {
  return list.flatMap((p) => (p.port ? [`${p.host}:${p.port}`] : []));
}

/** Desired sizes: the playbook's, overridden by `scale` (kept in the swarms table). */
export async function desiredSizes(db: Db, environment: Environment): Promise<Record<string, number>> {
  return { ...environment.size, ...(await scaledSizes(db, environment.app, environment.name)) };
}

/** The release being rolled out: the one just cut, or for scale the one already serving. */
export async function targetRelease(s: SwarmScope): Promise<ReleaseRow> {
  const { deps, deployment: d } = s;
  if (d.toReleaseId) {
    const r = await releaseById(deps.db, d.toReleaseId);
    if (r) return r;
  }
  const current = await currentRelease(deps.db, d.app, d.env);
  if (!current) throw new EngineError("not_found", `${d.app} has never been deployed to ${d.env}; deploy it first.`);
  await updateDeployment(deps.db, d.id, { toReleaseId: current.id });
  d.toReleaseId = current.id;
  return current;
}

/** Sizes this deployment aims for: the swarm's, with a scale request's counts on top. */
export async function targetSizes(s: SwarmScope): Promise<Record<string, number>> {
  const sizes = await desiredSizes(s.deps.db, s.environment);
  return s.deployment.kind === "scale" ? { ...sizes, ...(s.deployment.params.scale ?? {}) } : sizes;
}

/** This deployment's own live procs of `release`: the new procs it placed. */
export async function ownProcs(s: SwarmScope, release: ReleaseRow): Promise<ProcRow[]> {
  return (await liveProcs(s.deps.db, s.deployment.app, s.deployment.env, release.id)).filter((p) => p.deploymentId === s.deployment.id);
}

/**
 * Which live procs serve after this deployment, and which go. Deploy-like kinds: the target
 * release's procs stay, all others go. Scale: the release's procs minus the surplus per proc type.
 * Pure over the rows it reads, so a re-run after a crash picks the same procs.
 */
export async function servingSet(s: SwarmScope): Promise<{ keep: ProcRow[]; drop: ProcRow[] }> {
  const release = await targetRelease(s);
  const all = await liveProcs(s.deps.db, s.deployment.app, s.deployment.env);
  const ofRelease = all.filter((p) => p.releaseId === release.id);
  if (s.deployment.kind !== "scale") {
    return { keep: ofRelease, drop: all.filter((p) => p.releaseId !== release.id) };
  }
  const sizes = await targetSizes(s);
  const drop: ProcRow[] = [];
  for (const type of new Set(ofRelease.map((p) => p.procType))) {
    const ofType = ofRelease.filter((p) => p.procType === type);
    const surplus = ofType.length - (sizes[type] ?? 0);
    // Procs already draining from an interrupted run are the ones to finish removing.
    const draining = ofType.filter((p) => p.status === "draining");
    drop.push(...draining.slice(0, Math.max(surplus, 0)));
    if (surplus > draining.length) drop.push(...pickForRemoval(ofType.filter((p) => p.status !== "draining"), surplus - draining.length));
  }
  const dropIds = new Set(drop.map((p) => p.id));
  return { keep: ofRelease.filter((p) => !dropIds.has(p.id)), drop };
}

/** The playbook's per-run cap on one uptest script (`uptest_run_timeout`), when it sets one. */
export const runCap = (e: { uptest_run_timeout_ms?: number }) => (e.uptest_run_timeout_ms === undefined ? {} : { runTimeoutMs: e.uptest_run_timeout_ms });

/** Why a proc did not come up, with its log tail (a ProcError's output) under the reason. */
export function procFailureText(err: unknown): string {
  const e = err as { message?: string; output?: string };
  const message = e?.message ?? String(err);
  return e?.output ? `${message}\n\nits output:\n${e.output}` : message;
}

/** A proc's health: the worst check it failed, or a passing one. */
export interface ProcCheck {
  proc: ProcRow;
  /** `name` is "running" when the proc itself did not come up (or when it has nothing else to pass). */
  result: UptestResult;
}

/**
 * The one health check of a proc, after a start or a restart: RUNNING under supervisord with its
 * port open, then the app's uptests for its proc type (or the environment's health check when it
 * has none). A proc without a port only has to run. Every outcome is recorded against the proc and
 * the deployment (output redacted); never throws for an unhealthy proc, it returns the failure.
 * With `movePortTaken` (new procs of this deployment), a proc that died because its port was taken
 * is moved to another port once (moveToFreePort), and the result is the moved proc's.
 */
export async function checkProc(ctx: StepContext, h: HostHandle, first: ProcRow, o: { movePortTaken?: boolean } = {}): Promise<ProcCheck> {
  const opts = ctx.deps.options;
  let p = first;
  const record = async (r: UptestResult): Promise<ProcCheck> => {
    await recordUptestResult(ctx.deps.db, { procId: p.id, deploymentId: ctx.deployment.id, name: r.name, passed: r.passed, output: ctx.redact(r.output), exitCode: r.exitCode });
    return { proc: p, result: r };
  };
  for (let moved = false; ; moved = true) {
    try {
      // supervisord holds a proc in STARTING for its startsecs: that time is on top of the timeout.
      await runner.waitRunning(h.supervisor, p.name, { timeoutMs: opts.startTimeoutMs + ctx.environment.startsecs * 1000, host: h.name });
      if (p.port) await runner.waitPort(h.host, { host: h.name, port: p.port, timeoutMs: opts.startTimeoutMs, supervisor: h.supervisor, name: p.name });
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
  const running: ProcCheck = { proc: p, result: { name: "running", passed: true, output: "", exitCode: 0 } };
  if (!p.port) return running;
  const paths = procPaths(h.root, p.name);
  const deadlineMs = ctx.environment.uptest_timeout_ms;
  let results = await runUptests(h.host, { procDir: paths.dir, procType: p.procType, hostName: h.name, port: p.port, envFile: paths.envFile, asUser: await asProcUser(h.host, { ...ctx.squad, app: ctx.app.name }, []), ...runCap(ctx.environment), deadlineMs });
  if (results.length === 0 && ctx.environment.healthcheck) {
    results = [await runHealthcheck({ hostName: h.name, port: p.port, path: ctx.environment.healthcheck, deadlineMs })];
  }
  if (results.length === 0) return running;
  let worst: ProcCheck | undefined;
  for (const r of results) {
    const rec = await record(r);
    if (!r.passed && !worst) worst = rec;
  }
  return worst ?? { proc: p, result: results[0]! };
}
