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
import { configVarsOf } from "../db/queries/config-vars.ts";
import { checkServedBefore } from "./never-served.ts";

/**
 * What can be known before a deployment is queued is checked before it is queued: a `scale` or
 * `restart` of a proc type the app does not have (with a did-you-mean), a `restart` of procs that
 * do not run, a `rollback` to a release that does not
 * exist, already serves, lost its build to the beat's prune job or never served (unless `rollback!`), and a `scale ... web=0` that would take the environment off its
 * balancer without `scale!`, and a `config unset` of a key that `config set` never set. Throws EngineError with a sentence for the channel; nothing is
 * recorded when it throws.
 */
export async function preflight(db: Db, environment: Environment, kind: DeploymentKind, params: DeploymentParams): Promise<void> {
  const { app, name: env } = environment;
  if (kind === "scale") await checkScale(db, environment, params);
  if (kind === "restart") await checkRestart(db, environment, params.proc);
  if (kind === "config" && params.keys?.length) {
    const set = (await configVarsOf(db, app, env)).map((v) => v.key);
    const problem = unsetProblem(app, env, params.keys, set, Object.keys(environment.env ?? {}));
    if (problem) throw new EngineError("invalid", problem);
  }
  if (kind === "rollback") {
    const current = await currentRelease(db, app, env);
    if (params.release !== undefined) {
      const r = await releaseByNumber(db, app, env, params.release);
      if (!r) throw new EngineError("not_found", `${app} ${env} has no release v${params.release}. \`releases ${app} ${env}\` lists them.`);
      if (r.id === current?.id) throw new EngineError("invalid", `v${r.number} is already serving ${app} ${env}; nothing to roll back.`);
      await rollbackTarget(db, app, env, params.release); // refuses a release whose build was pruned
      if (!params.confirmed) await checkServedBefore(db, r);
    } else {
      await rollbackTarget(db, app, env);
    }
  }
}

/**
 * Why `config unset <app> <env> KEYS` would change nothing, or undefined when every key is one
 * `config set` set (`set`: those keys; `fromPlaybook`: the environment's own `env:` keys, which
 * only the playbook changes). Names keys only, never values (some are secrets). Pure.
 */
export function unsetProblem(app: string, env: string, keys: readonly string[], set: readonly string[], fromPlaybook: readonly string[]): string | undefined {
  const missing = keys.filter((k) => !set.includes(k));
  if (missing.length === 0) return undefined;
  const [first] = missing;
  const inPlaybook = missing.filter((k) => fromPlaybook.includes(k));
  const what = missing.length === 1 ? `${first} is` : `${missing.join(", ")} are`;
  const playbookNote = inPlaybook.length ? ` ${inPlaybook.join(", ")} ${inPlaybook.length === 1 ? "comes" : "come"} from the playbook's \`env:\`; change ${inPlaybook.length === 1 ? "it" : "them"} there.` : "";
  const listed = set.length ? ` Its keys set with \`config set\`: ${[...set].sort().join(", ")}.` : " No key of it was set with `config set`.";
  return `${what} not set in ${app} ${env}, so there is nothing to unset.${didYouMean(first!, set)}${listed}${playbookNote}`;
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

/**
 * Why `type` is not a proc type of `app` (`types`: its proc types, from procTypesOf), with a
 * did-you-mean and the list, or undefined when it is one. The one sentence scale, restart and logs
 * refuse with. Pure.
 */
export function procTypeProblem(app: string, type: string, types: readonly string[]): string | undefined {
  if (types.includes(type)) return undefined;
  return `${app} has no proc type \`${type}\`.${didYouMean(type, types)} Its proc types: ${types.join(", ") || "none"}.`;
}

/**
 * Refuses proc types `environment`'s app does not have, before anything is queued or read from a
 * host: every command that names a proc type (scale, restart, logs) says the same.
 * @throws EngineError `invalid` with procTypeProblem's sentence.
 */
export async function checkProcTypes(db: Db, environment: Environment, named: readonly string[]): Promise<void> {
  if (named.length === 0) return;
  const types = await procTypesOf(db, environment);
  for (const type of named) {
    const problem = procTypeProblem(environment.app, type, types);
    if (problem) throw new EngineError("invalid", problem);
  }
}

/** A restart of a proc type the app lacks, or of procs that do not run, fails at once: refused here instead of queued. */
async function checkRestart(db: Db, environment: Environment, proc: string | undefined): Promise<void> {
  const { app, name: env } = environment;
  if (proc !== undefined) await checkProcTypes(db, environment, [proc]);
  const live = (await liveProcs(db, app, env)).filter((p) => proc === undefined || p.procType === proc);
  if (live.length > 0) return;
  const what = proc === undefined ? "procs" : `\`${proc}\` procs`;
  const type = proc ?? (await procTypesOf(db, environment))[0];
  const start = type ? ` \`scale ${app} ${env} ${type}=1\` starts one.` : "";
  throw new EngineError("not_found", `${app} ${env} runs no ${what}, so there is nothing to restart.${start}`);
}

async function checkScale(db: Db, environment: Environment, params: DeploymentParams): Promise<void> {
  const { app, name: env } = environment;
  await checkProcTypes(db, environment, Object.keys(params.scale ?? {}));
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
