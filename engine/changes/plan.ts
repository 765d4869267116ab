import { utcTime, utcTimeEnd } from "../../lib/time-text.ts";
import { findBuild, getBuild } from "../../db/queries/builds.ts";
import { configVarsOf } from "../../db/queries/config-vars.ts";
import { openDeployments } from "../../db/queries/deployments.ts";
import { allHosts, unplaceableHosts } from "../../db/queries/hosts.ts";
import { environmentLock } from "../../db/queries/locks.ts";
import { liveProcs, liveProcsOnHosts } from "../../db/queries/procs.ts";
import { commitOfRelease, currentRelease, releaseByNumber } from "../../db/queries/releases.ts";
import type { DeploymentParams } from "../../db/schema/index.ts";
import { activeFreeze, freezeEndsAt, isFrozen } from "../../playbooks/freeze.ts";
import { approversOf, configFor, environmentOf } from "../../playbooks/resolve.ts";
import { layerConfig, setOwn } from "../config-layers.ts";
import type { EngineApiDeps } from "../context.ts";
import { EngineError, toEngineError } from "../errors.ts";
import { liveCommits } from "../host-reads.ts";
import { rollbackTarget } from "../pipeline/steps/release.ts";
import { loadsFor } from "../pipeline/steps/start.ts";
import { desiredSizes, listens } from "../pipeline/swarm.ts";
import { preflight } from "../preflight.ts";
import { valueShower } from "./mask.ts";
import { planProcChange, type ProcChange } from "./procs.ts";
import { promotionProblem } from "./promotion.ts";
import { configUnchanged, diffConfig, type CommitRange, type ConfigDiff } from "./types.ts";

/** The changes `plan` can show: the deployment kinds that change what runs. */
export type PlannedKind = "deploy" | "rollback" | "scale" | "config";

export interface PlanRequest {
  kind: PlannedKind;
  app: string;
  env: string;
  /** As a deployment would get them. */
  params: DeploymentParams;
  /** A promote: the environment whose serving build would be deployed. */
  promoteFrom?: string;
  /** Whether the asker may do this (the bot's Authorizer answered), and who may. */
  access: { allowed: boolean; who: readonly string[] };
}

/** A release as a plan names it. */
export interface PlanRelease {
  number?: number;
  commit?: string;
  /** How the target was chosen: "main", "v7", "staging v12", "working copy of /srv/hello". */
  source?: string;
}

/**
 * What a change would do, found without doing it: the commits, the config diff (values masked),
 * the procs per host and the pool change, and what stands in the way. Plain data; rendered by
 * bot/answers/plan-text.ts.
 */
export interface ChangePlan {
  kind: PlannedKind;
  app: string;
  env: string;
  /** What serves now (absent: never deployed). */
  serving?: PlanRelease;
  /** What would serve (absent for scale: the same release). */
  target?: PlanRelease;
  /** Absent where no commit changes (scale, config); `{ error }` when git could not answer. */
  commits?: CommitRange | { error: string };
  config?: ConfigDiff;
  /** Nothing would change: the same build and config already serve, and every proc is there. */
  unchanged: boolean;
  procs: ProcChange;
  pool?: { balancer: string; name: string };
  /** Sentences: each one a reason the change would be refused or would wait. */
  obstacles: string[];
  /** Sentences: what else a person should know (deployments ahead in line, estimates). */
  notes: string[];
  /**
   * The `!` command ("rollback! hello local v7") that gets past an obstacle which only asks the person
   * to confirm (a never-served release, a scale to 0 off the balancer, a freeze window): the plain
   * command is refused, so this is the one to offer. Absent when nothing needs confirming.
   */
  confirm?: string;
}

/**
 * Plans a change without recording, leasing or touching anything: reads the database and the
 * playbook, and asks a worker for the commits (its git mirror is the engine's repo cache; a fetch
 * may update that cache, which is not state). Throws EngineError for what makes a plan
 * meaningless (unknown environment, ref or release, nothing deployed to roll back or scale).
 */
export async function planChange(deps: EngineApiDeps, req: PlanRequest): Promise<ChangePlan> {
  const found = environmentOf(deps.playbook, req.app, req.env);
  if (!found) throw new EngineError("not_found", `there is no environment ${req.env} for app ${req.app}`);
  const { environment } = found;
  const { db } = deps;
  const { app, env } = req;
  const obstacles: string[] = [];
  const notes: string[] = [];
  let confirm: string | undefined;

  const current = await currentRelease(db, app, env);
  if (!current && req.kind !== "deploy") throw new EngineError("not_found", `${app} has never been deployed to ${env}; deploy it first.`);
  const currentBuild = current ? await getBuild(db, current.buildId) : undefined;
  const serving: PlanRelease | undefined = current ? { number: current.number, ...(currentBuild ? { commit: currentBuild.commit } : {}) } : undefined;

  try {
    await preflight(db, environment, req.kind, req.params);
  } catch (err) {
    const e = toEngineError(err);
    // A rollback to a release that never served is planned, with the refusal as what stands in its way.
    if (e.code === "not_found" || (req.kind === "rollback" && e.code !== "needs_confirmation")) throw e;
    obstacles.push(e.message);
    if (e.code === "needs_confirmation" && e.opts.confirm) confirm = e.opts.confirm;
  }

  // The target: its commit, its build (when one exists) and its config.
  const overrides = Object.fromEntries((await configVarsOf(db, app, env)).map((o) => [o.key, o.value]));
  const base = configFor(deps.playbook, app, env).env;
  let target: PlanRelease | undefined;
  let commits: ChangePlan["commits"];
  let afterConfig: Record<string, string> | undefined;
  let buildId: string | undefined;
  if (req.kind === "deploy") {
    const promote = req.promoteFrom ? { env: req.promoteFrom } : undefined;
    let commit: string | undefined;
    let source: string;
    if (promote) {
      const from = await currentRelease(db, app, promote.env);
      if (!from) throw new EngineError("not_found", `${app} has never been deployed to ${promote.env}: there is nothing to promote.`);
      commit = await commitOfRelease(db, from);
      buildId = from.buildId;
      source = `${promote.env} v${from.number}`;
    } else if (found.app.working_copy) {
      // What the deploy's resolve step ships: the directory as it is (its snapshot commit), not a branch.
      source = `working copy of ${found.app.repo}`;
    } else {
      source = req.params.ref ?? environment.ref;
    }
    try {
      const read = await liveCommits(deps, app, serving?.commit, commit ?? source);
      commit = read.commit;
      commits = read.range;
    } catch (err) {
      const e = toEngineError(err);
      if (e.code === "ref_not_found" || e.code === "invalid") throw e;
      commits = { error: e.message };
    }
    target = { ...(commit ? { commit } : {}), source };
    if (commit && !buildId) {
      const built = await findBuild(db, { app, commit, buildpack: found.app.buildpack || "auto" });
      if (built?.status === "succeeded" && !built.prunedAt) buildId = built.id;
    }
    const build = buildId ? await getBuild(db, buildId) : currentBuild;
    if (!buildId) notes.push(`${commit ? commit.slice(0, 7) : "this commit"} has no build yet: the deploy builds it, and its buildpack's default config may add keys not shown here.`);
    afterConfig = layerConfig(build?.configVars ?? {}, base, overrides);
    if (commit && !promote) {
      const problem = await promotionProblem(db, environment, commit);
      if (problem) obstacles.push(problem);
    }
  } else if (req.kind === "rollback") {
    const to = req.params.release !== undefined ? await releaseByNumber(db, app, env, req.params.release) : await rollbackTarget(db, app, env);
    if (!to) throw new EngineError("not_found", `${app} ${env} has no release v${req.params.release}.`);
    const commit = await commitOfRelease(db, to);
    target = { number: to.number, ...(commit ? { commit } : {}), source: `v${to.number}` };
    buildId = to.buildId;
    afterConfig = { ...to.config };
    if (commit) {
      try {
        commits = (await liveCommits(deps, app, serving?.commit, commit)).range;
      } catch (err) {
        commits = { error: toEngineError(err).message };
      }
    }
  } else if (req.kind === "config") {
    afterConfig = { ...(current?.config ?? {}) };
    for (const [k, v] of Object.entries(req.params.vars ?? {})) setOwn(afterConfig, k, v);
    for (const k of req.params.keys ?? []) delete afterConfig[k];
    buildId = current?.buildId;
  }

  // Config: values shown by the secrets rules (marked keys, new `config secret` keys included).
  let config: ConfigDiff | undefined;
  if (afterConfig) {
    const marked = new Set([...(await configVarsOf(db, app, env)).filter((r) => r.secret).map((r) => r.key), ...(req.params.secretKeys ?? [])]);
    const pending = Object.entries(req.params.vars ?? {}).filter(([k]) => marked.has(k)).map(([, v]) => v);
    config = diffConfig(current?.config ?? {}, afterConfig, valueShower(marked, [...deps.playbook.secrets, ...pending]));
  }

  // Procs: the start step's placement over the same rows, and the scale-down's choice.
  const sameRelease =
    req.kind === "scale" ||
    (current !== undefined && buildId === current.buildId && config !== undefined && configUnchanged(config) && req.kind !== "rollback");
  const build = buildId ? await getBuild(db, buildId) : currentBuild;
  let sizes = await desiredSizes(db, environment);
  if (req.kind === "scale") sizes = { ...sizes, ...(req.params.scale ?? {}) };
  if (build?.procfile) sizes = Object.fromEntries(Object.entries(sizes).filter(([t]) => Object.hasOwn(build.procfile!, t)));
  const squad = deps.playbook.squads[environment.squad]!;
  const inactive = await unplaceableHosts(db, squad.name);
  const active = squad.hosts.filter((h) => !inactive.has(h));
  const busy = new Map((await allHosts(db)).filter((h) => h.squad === squad.name).map((h) => [h.name, h.busyPorts] as const));
  const live = await liveProcs(db, app, env);
  const procs = planProcChange({
    mode: sameRelease ? "topUp" : "release",
    sizes,
    live,
    ...(current ? { servingReleaseId: current.id } : {}),
    loads: loadsFor(active, await liveProcsOnHosts(db, active), sameRelease && current ? current.id : "", busy),
    listens: (t) => listens(environment, t),
    ports: squad.ports,
  });
  if (procs.problem) obstacles.push(`the new procs cannot be placed: ${procs.problem}.`);
  const unchanged = sameRelease && req.kind !== "scale" && procs.start.length === 0 && procs.stop.length === 0;

  // What stands in the way, in the order the engine checks it.
  const now = deps.now?.() ?? new Date();
  const lock = await environmentLock(db, app, env, now);
  if (lock) {
    const until = lock.expiresAt ? ` until ${utcTimeEnd(lock.expiresAt)}` : "";
    obstacles.push(`${app} ${env} is locked by ${lock.heldBy}${lock.reason ? ` (${lock.reason})` : ""}${until}; \`unlock ${app} ${env}\` first.`);
  }
  if (isFrozen(environment.freeze, now)) {
    const ends = freezeEndsAt(environment.freeze, now);
    const window = `freeze window "${activeFreeze(environment.freeze, now)}"`;
    if (req.params.force) notes.push(`${app} ${env} is frozen (${window}); \`deploy!\` goes ahead anyway.`);
    else {
      obstacles.push(`${app} ${env} is frozen${ends ? ` until ${stamp(ends)}` : ""} (${window}, UTC)${req.kind === "deploy" ? "; `deploy!` skips the freeze window" : ""}.`);
      if (req.kind === "deploy" && !req.promoteFrom) confirm ??= `deploy! ${app} ${env}${req.params.ref !== undefined ? ` ${req.params.ref}` : ""}`;
    }
  }
  if (!req.access.allowed) obstacles.push(`you may not ${verbOf(req.kind)} ${app} ${env}. Who may: ${req.access.who.join(", ")}.`);
  if (environment.approval.required) {
    const who = approversOf(environment);
    obstacles.push(`it needs approval from ${who.length ? who.join(", ") : "someone other than you"} (within ${Math.round(environment.approval.timeout_ms / 60_000)}m of asking).`);
  }
  const ahead = (await openDeployments(db)).filter((d) => d.app === app && d.env === env);
  if (ahead.length) notes.push(`${ahead.map((d) => `${d.id} (${d.kind}, ${d.status.replace("_", " ")})`).join(", ")} ${ahead.length === 1 ? "is" : "are"} ahead in line; this plan is against what serves now.`);
  if (procs.start.length > 0) notes.push("hosts and ports are chosen again when the deployment runs; these are today's choices.");

  const pool = environment.balancer && environment.pool ? { balancer: environment.balancer, name: environment.pool } : undefined;
  return {
    kind: req.kind,
    app,
    env,
    ...(serving ? { serving } : {}),
    ...(target ? { target } : {}),
    ...(commits ? { commits } : {}),
    ...(config ? { config } : {}),
    unchanged,
    procs,
    ...(pool ? { pool } : {}),
    obstacles,
    notes,
    ...(confirm ? { confirm } : {}),
  };
}

const stamp = utcTime;

function verbOf(kind: PlannedKind): string {
  return kind === "config" ? "change the config of" : kind;
}
