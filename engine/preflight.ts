import type { Db } from "../db/client.ts";
import type { DeploymentKind, DeploymentParams } from "../db/schema/index.ts";
import { didYouMean } from "../lib/suggest.ts";
import type { Environment } from "../playbooks/types.ts";
import { EngineError } from "./errors.ts";
import { rollbackTarget } from "./pipeline/steps/release.ts";
import { currentRelease, releaseByNumber } from "../db/queries/releases.ts";
import { listens } from "./pipeline/swarm.ts";
import { liveProcs } from "../db/queries/procs.ts";
import { getBuild } from "../db/queries/builds.ts";

/**
 * What can be known before a deployment is queued is checked before it is queued: a `scale` of a
 * proc type the app does not have (with a did-you-mean), a `rollback` to a release that does not
 * exist, already serves or lost its build to the beat's prune job, and a `scale ... web=0` that would take the environment off its
 * balancer without `scale!`. Throws EngineError with a sentence for the channel; nothing is
 * recorded when it throws.
 */
export async function preflight(db: Db, environment: Environment, kind: DeploymentKind, params: DeploymentParams): Promise<void> {
  const { app, name: env } = environment;
  if (kind === "scale") await checkScale(db, environment, params);
  if (kind === "rollback") {
    const current = await currentRelease(db, app, env);
    if (params.release !== undefined) {
      const r = await releaseByNumber(db, app, env, params.release);
      if (!r) throw new EngineError("not_found", `${app} ${env} has no release v${params.release}. \`releases ${app} ${env}\` lists them.`);
      if (r.id === current?.id) throw new EngineError("invalid", `v${r.number} is already serving ${app} ${env}; nothing to roll back.`);
      await rollbackTarget(db, app, env, params.release); // refuses a release whose build was pruned
    } else {
      await rollbackTarget(db, app, env);
    }
  }
}

/** The proc types an app+env can run: its serving build's Procfile, else the playbook's sizes. */
export async function procTypesOf(db: Db, environment: Environment): Promise<string[]> {
  const current = await currentRelease(db, environment.app, environment.name);
  if (current) {
    const build = await getBuild(db, current.buildId);
    if (build?.procfile) return Object.keys(build.procfile).sort();
  }
  return Object.keys(environment.size).sort();
}

async function checkScale(db: Db, environment: Environment, params: DeploymentParams): Promise<void> {
  const { app, name: env } = environment;
  const types = await procTypesOf(db, environment);
  for (const type of Object.keys(params.scale ?? {})) {
    if (types.includes(type)) continue;
    throw new EngineError("invalid", `${app} has no proc type \`${type}\`.${didYouMean(type, types)} Its proc types: ${types.join(", ") || "none"}.`);
  }
  if (params.confirmed || !environment.balancer) return;
  const emptied = Object.entries(params.scale ?? {}).filter(([type, n]) => n === 0 && listens(environment, type)).map(([t]) => t);
  if (emptied.length === 0) return;
  const live = await liveProcs(db, app, env);
  const serving = emptied.filter((t) => live.some((p) => p.procType === t));
  if (serving.length === 0) return;
  const counts = Object.entries(params.scale ?? {}).map(([t, n]) => `${t}=${n}`).join(" ");
  throw new EngineError(
    "needs_confirmation",
    `${serving.map((t) => `${t}=0`).join(" ")} takes ${app} ${env} off its balancer (pool ${environment.pool ?? "?"}): nothing would serve it. If that is what you want, type \`scale! ${app} ${env} ${counts}\`.`,
    { confirm: `scale! ${app} ${env} ${counts}` },
  );
}
