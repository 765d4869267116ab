import { configVarsOf } from "../../db/queries/config-vars.ts";
import { commitOfRelease } from "../../db/queries/releases.ts";
import type { ReleaseRow } from "../../db/schema/index.ts";
import { commitRange } from "../builds/git.ts";
import type { EngineDeps } from "../context.ts";
import type { EngineEventBody, RevertTarget } from "../event-types.ts";
import { valueShower } from "./mask.ts";
import { diffConfig } from "./types.ts";

/**
 * The worker's side of "diffs everywhere": what a new release changes against the one it
 * replaces (the `deployment.changes` event of the head and summary), and what the Rollback button
 * would revert to. Config values go through the secrets rules before they leave (valueShower);
 * `secretKeys` are keys a pending `config secret` marks.
 */
export async function releaseChanges(
  deps: EngineDeps,
  repo: string,
  from: ReleaseRow | undefined,
  to: ReleaseRow,
  secretKeys: readonly string[] = [],
): Promise<Extract<EngineEventBody, { type: "deployment.changes" }>> {
  const show = await showerFor(deps, to.app, to.env, secretKeys);
  const config = diffConfig(from?.config ?? {}, to.config, show);
  const body: Extract<EngineEventBody, { type: "deployment.changes" }> = { type: "deployment.changes", toRelease: to.number, config, ...(from ? { fromRelease: from.number } : {}) };
  try {
    const toCommit = await commitOfRelease(deps.db, to);
    const fromCommit = from ? await commitOfRelease(deps.db, from) : undefined;
    if (toCommit) body.commits = await commitRange(repo, fromCommit, toCommit, { dataDir: deps.dataDir });
  } catch (err) {
    // The commits are news, not the deployment: git failing to list them fails nothing.
    body.commitsError = (err as Error).message.split("\n")[0]!.slice(0, 300);
  }
  return body;
}

/** What rolling back from `current` to `target` would revert to: release, commit, age, config difference. */
export async function revertTarget(deps: EngineDeps, current: ReleaseRow, target: ReleaseRow): Promise<RevertTarget> {
  const show = await showerFor(deps, current.app, current.env, []);
  const commit = await commitOfRelease(deps.db, target);
  return {
    release: target.number,
    ...(commit ? { commit: commit.slice(0, 7) } : {}),
    createdAt: target.createdAt.toISOString(),
    config: diffConfig(current.config, target.config, show),
  };
}

async function showerFor(deps: EngineDeps, app: string, env: string, secretKeys: readonly string[]) {
  const marked = new Set([...(await configVarsOf(deps.db, app, env)).filter((r) => r.secret).map((r) => r.key), ...secretKeys]);
  return valueShower(marked, deps.playbook.secrets);
}
