import { execFile } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** The demo app shipped in this repo. */
export const HELLO_APP = resolve(dirname(fileURLToPath(import.meta.url)), "../../examples/hello");

export interface AppRepo {
  /** The repo's directory (a normal, non-bare git repo on branch `main`). */
  path: string;
  /** The first commit's sha. */
  initial: string;
  /** Writes files (path -> content; a leading `#!` makes it executable), commits, returns the sha. */
  commit(files: Record<string, string>, message?: string): Promise<string>;
  /** An annotated tag at HEAD. */
  tag(name: string): Promise<void>;
  /** A branch at HEAD (HEAD stays on the current branch). */
  branch(name: string): Promise<void>;
}

/** git with a fixed identity, no user or system config. */
function git(cwd: string, args: string[]) {
  return exec("git", ["-c", "user.name=Raptor Test", "-c", "user.email=test@raptor.invalid", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", ...args], {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  });
}

async function writeFiles(root: string, files: Record<string, string>) {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, content);
    if (content.startsWith("#!")) await chmod(p, 0o755);
  }
}

/**
 * A fresh git repo in a temp dir holding a copy of `dir` (e.g. HELLO_APP; null for none) plus
 * `files`, committed once on `main`.
 */
export async function makeAppRepo(dir: string | null, files: Record<string, string> = {}): Promise<AppRepo> {
  const path = await mkdtemp(join(tmpdir(), "raptor-app-"));
  if (dir) await cp(dir, path, { recursive: true });
  await writeFiles(path, files);
  await git(path, ["init", "--quiet", "-b", "main"]);
  const commit = async (more: Record<string, string>, message = "change") => {
    await writeFiles(path, more);
    await git(path, ["add", "-A"]);
    await git(path, ["commit", "--quiet", "--allow-empty", "-m", message]);
    return (await git(path, ["rev-parse", "HEAD"])).stdout.trim();
  };
  const initial = await commit({}, "initial");
  return {
    path,
    initial,
    commit,
    tag: async (name) => void (await git(path, ["tag", "-a", "-m", name, "--", name])),
    branch: async (name) => void (await git(path, ["branch", "--", name])),
  };
}
