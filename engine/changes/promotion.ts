import type { Db } from "../../db/client.ts";
import { commitOfRelease, currentRelease, releasesOfCommit } from "../../db/queries/releases.ts";
import type { Environment } from "../../playbooks/types.ts";

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
    ? ` ${from} v${cut.release.number} has it but never served: it must serve ${from} first (\`rollback ${app} ${from} v${cut.release.number}\` or \`deploy ${app} ${from} ${short}\`).`
    : ` No ${from} release has it: \`deploy ${app} ${from} ${short}\` first.`;
  const serving = await currentRelease(db, app, from);
  const servingCommit = serving ? await commitOfRelease(db, serving) : undefined;
  const now = serving ? ` ${from} serves v${serving.number}${servingCommit ? ` (${servingCommit.slice(0, 7)})` : ""} now: \`promote ${app} ${from} ${env}\` ships that build.` : "";
  return `${head}${first}${now}`;
}
