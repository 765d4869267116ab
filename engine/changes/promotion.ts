import type { Db } from "../../db/client.ts";
import type { DeploymentParams } from "../../db/schema/index.ts";
import { commitOfRelease, currentRelease, releasesOfCommit } from "../../db/queries/releases.ts";
import type { App, Environment } from "../../playbooks/types.ts";
import type { EngineApiDeps } from "../context.ts";
import { toEngineError } from "../errors.ts";
import { liveCommits } from "../host-reads.ts";

/**
 * `promote_from: staging` on production: a plain deploy to production ships only a commit that
 * has served in staging (a successful deployment left a release of it serving there). Returns the
 * sentence that refuses `commit`, or undefined when it may go. `deploy!` does not skip this: the
 * freeze window is about when, this is about what.
 */
export async function promotionProblem(db: Db, environment: Environment, commit: string): Promise<string | undefined> {
  const from = environment.promote_from;
  if (!from) return undefined;
  const { app, name: env } = environment;
  const releases = await releasesOfCommit(db, app, from, commit);
  if (releases.some((r) => r.served)) return undefined;
  const short = commit.slice(0, 7);
  const head = `${app} ${env} takes only commits that served in ${from} (playbook \`promote_from: ${from}\`), and ${short} has not.`;
  const cut = releases[0];
  const first = cut
    ? ` ${from} v${cut.release.number} has it but never served: it must serve ${from} first (\`rollback! ${app} ${from} v${cut.release.number}\` or \`deploy ${app} ${from} ${short}\`).`
    : ` No ${from} release has it: \`deploy ${app} ${from} ${short}\` first.`;
  const serving = await currentRelease(db, app, from);
  const servingCommit = serving ? await commitOfRelease(db, serving) : undefined;
  const now = serving ? ` ${from} serves v${serving.number}${servingCommit ? ` (${servingCommit.slice(0, 7)})` : ""} now: \`promote ${app} ${from} ${env}\` ships that build.` : "";
  return `${head}${first}${now}`;
}

/**
 * `promotionProblem` for a `deploy` being asked for, before it is queued or sent for approval (so
 * nobody approves a deploy that could never run): the ref is resolved on a worker as the plan
 * does. A ref that does not exist is refused here too (EngineError ref_not_found); when no worker
 * answers, undefined: the resolve step checks again when the deploy runs (state may change in
 * between anyway). A promote, and a working copy (whose commit is made when the deploy runs), are
 * checked only then.
 */
export async function promotionProblemAtRequest(
  deps: EngineApiDeps,
  app: Pick<App, "working_copy">,
  environment: Environment,
  kind: string,
  params: Pick<DeploymentParams, "ref" | "promote">,
): Promise<string | undefined> {
  if (kind !== "deploy" || !environment.promote_from || params.promote || app.working_copy) return undefined;
  let commit: string;
  try {
    commit = (await liveCommits(deps, environment.app, undefined, params.ref ?? environment.ref)).commit;
  } catch (err) {
    const e = toEngineError(err);
    if (e.code === "ref_not_found" || e.code === "invalid") throw e;
    return undefined;
  }
  return promotionProblem(deps.db, environment, commit);
}
