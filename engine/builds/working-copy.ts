import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { App } from "../../playbooks/types.ts";
import { BuildError } from "./build-error.ts";
import { gitEnv, run, runOk } from "./exec.ts";
import { mirrorPath, resolveRef, withMirrorLock } from "./git.ts";
import { privatePaths, privatePathsMessage, workingCopyPlaceProblem } from "../../lib/working-copy-place.ts";

/**
 * Apps with `working_copy: true` (issue 11 item 12): `repo` is a plain local directory, deployed
 * as its files are at the moment of the deploy, uncommitted edits included (as Kamal builds from
 * `context: .`). Each deploy commits the directory's files onto branch `main` of a git repo Raptor
 * keeps under `<dataDir>/cache/working-copies/<sha1 of the directory>`, only when they changed, so
 * an unchanged directory keeps its commit (and its build, and "nothing changed" stays true). The
 * directory itself is never written to: git runs with that repo as `--git-dir` and the directory
 * as `--work-tree`, so a directory inside another checkout (examples/hello in Raptor's own) is
 * not confused with it. The directory's `.gitignore` files are honoured.
 */

/** The branch snapshots are committed to: what a working-copy app's deploys resolve. */
export const SNAPSHOT_BRANCH = "main";

/** The git repo Raptor keeps a working copy's snapshots in (bare), or the app's own repo for others. */
export function sourceRepo(app: Pick<App, "repo" | "working_copy">, dataDir: string): string {
  if (!app.working_copy) return app.repo;
  return join(dataDir, "cache", "working-copies", createHash("sha1").update(app.repo).digest("hex"));
}

/** argv for git on the snapshot repo with `dir` as its work tree; `safe.directory` for a directory another user owns. */
function git(repo: string, dir: string, args: readonly string[]): string[] {
  return ["git", "--git-dir", repo, "--work-tree", dir, "-c", `safe.directory=${dir}`, "-c", `safe.directory=${repo}`, "-c", "gc.auto=0", "-c", "core.autocrlf=false", ...args];
}

/**
 * Commits `app.repo`'s current files to the snapshot repo when they differ from its last commit.
 * Returns the snapshot repo (for resolveRef / exportCommit) and whether a new commit was made.
 * Throws BuildError("invalid") when the directory is missing, in a place no working copy may be,
 * or holds files their owner kept from other users (working-copy-place.ts).
 */
export async function snapshotWorkingCopy(app: Pick<App, "name" | "repo" | "working_copy">, dataDir: string): Promise<{ repo: string; changed: boolean }> {
  const dir = app.repo;
  const repo = sourceRepo(app, dataDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new BuildError("invalid", `${app.name} deploys the directory ${dir} as it is (working_copy: true), and there is no such directory.`);
  }
  // Checked at load too (file:line); again here, as the directory may have changed since.
  const place = workingCopyPlaceProblem(dir, undefined, dataDir);
  if (place) throw new BuildError("invalid", `${app.name} deploys the directory ${dir} as it is (working_copy: true), and it ${place}.`);
  return withMirrorLock(repo, async () => {
    const env = gitEnv();
    if (!existsSync(join(repo, "HEAD"))) {
      await mkdir(repo, { recursive: true });
      await runOk(["git", "init", "--quiet", "--bare", `--initial-branch=${SNAPSHOT_BRANCH}`, repo], { env });
    }
    await runOk(git(repo, dir, ["add", "--all", "--", "."]), { env });
    // The directory as it is, .gitignore applied: a file ignored since an earlier snapshot leaves it.
    const ignored = (await runOk(git(repo, dir, ["ls-files", "-z", "--cached", "--ignored", "--exclude-standard"]), { env })).split("\0").filter(Boolean);
    if (ignored.length > 0) await runOk(git(repo, dir, ["rm", "--cached", "--quiet", "--", ...ignored]), { env });
    // What will be deployed (the index, .gitignore applied): nothing its owner kept private.
    const files = (await runOk(git(repo, dir, ["ls-files", "-z"]), { env })).split("\0").filter(Boolean);
    const hidden = privatePaths(dir, files);
    if (hidden.length > 0) throw new BuildError("invalid", privatePathsMessage(app.name, dir, hidden));
    const head = await run(git(repo, dir, ["rev-parse", "--verify", "--quiet", `refs/heads/${SNAPSHOT_BRANCH}`]), { env });
    const same = head.code === 0 && (await run(git(repo, dir, ["diff", "--cached", "--quiet", "HEAD", "--"]), { env })).code === 0;
    if (same) return { repo, changed: false };
    const who = ["-c", "user.name=raptor", "-c", "user.email=raptor@localhost"];
    const argv = git(repo, dir, ["commit", "--quiet", "--no-verify", "-m", `working copy of ${dir}`]);
    await runOk([...argv.slice(0, 1), ...who, ...argv.slice(1)], { env });
    return { repo, changed: true };
  });
}

/**
 * The commit a working-copy app's deploy (or its plan) ships: the directory's snapshot, or
 * `serving` (the serving release's commit) when the snapshot's tree is exactly its tree. Files
 * restored to what serves made a new snapshot on top of a failed or cancelled edit's, so the deploy
 * counted "2 new commits" and cut a new release of the same files (trial 2, M3); with the serving
 * commit, the release step finds its build and config, and says nothing changed. Compared by git
 * tree hash (same paths, modes and contents), in the snapshot repo's mirror that resolveRef filled.
 */
export async function workingCopyCommit(app: Pick<App, "name" | "repo" | "working_copy">, dataDir: string, serving?: string): Promise<{ repo: string; commit: string; shortSha: string }> {
  const { repo } = await snapshotWorkingCopy(app, dataDir);
  const snap = await resolveRef(repo, SNAPSHOT_BRANCH, { dataDir });
  if (!serving || serving === snap.commit) return { repo, ...snap };
  const mirror = mirrorPath(repo, { dataDir });
  const trees = await run(["git", "--git-dir", mirror, "rev-parse", `${snap.commit}^{tree}`, `${serving}^{tree}`], { env: gitEnv() });
  const [a, b] = trees.stdout.trim().split("\n");
  // A serving commit the mirror lacks (its cache was cleared) is no match: the snapshot ships.
  return trees.code === 0 && a && a === b ? { repo, commit: serving, shortSha: serving.slice(0, 7) } : { repo, ...snap };
}
