import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { didYouMean } from "../../lib/suggest.ts";
import { COMMIT_SHA, REF_RULE, refProblem } from "../../lib/names.ts";
import { BuildError } from "./build-error.ts";
import { describeFailure, gitEnv, killTree, run, runOk, type RunOptions } from "./exec.ts";
import { gitFailureIsTransient, repoUnreadableText } from "./git-failure.ts";
import { MAX_BUILD_SIZE_VAR, tooLargeError, treeBytes } from "./size-limit.ts";
import { bytesText } from "../../lib/byte-size.ts";
import { MAX_LISTED_COMMITS, type CommitLine, type CommitRange } from "../changes/types.ts";

/**
 * Git for builds: one bare mirror per repo under `<dataDir>/cache/git/<sha1 of url>`, cloned once
 * (into a temp dir, then renamed into place) and fetched before each resolve. Every operation on a
 * mirror holds its lock: an in-process mutex plus a lock directory shared with other workers on
 * this machine, so concurrent resolves never fetch into the same mirror at once.
 */
export interface GitOptions {
  /** Root of Raptor's local state; the mirrors live under `cache/git/`. */
  dataDir: string;
}

export interface ResolvedRef {
  /** The full commit sha the ref points at (tags are peeled). */
  commit: string;
  shortSha: string;
}


/** Refuses a ref git would refuse (the one rule in lib/names.ts, shared with the chat grammar). */
export function validateRef(ref: string): void {
  const problem = refProblem(ref);
  if (problem) throw new BuildError("invalid", `\`${ref.slice(0, 60)}\` is not a valid ref: ${problem}. ${REF_RULE}`);
}

export function mirrorPath(repo: string, opts: GitOptions): string {
  return join(opts.dataDir, "cache", "git", createHash("sha1").update(repo).digest("hex"));
}

// ---- locking ----------------------------------------------------------------------------------

const inProcess = new Map<string, Promise<unknown>>();
/** A lock directory older than this belongs to a dead worker (no git operation here takes so long). */
const STALE_LOCK_MS = 15 * 60_000;
const LOCK_WAIT_MS = 20 * 60_000;

async function withDirLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  await mkdir(dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir); // atomic: exactly one creator wins
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const st = await stat(lockDir).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new BuildError("internal", `timed out waiting for git lock ${lockDir}`, { retryable: true });
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

/** Serializes `fn` per mirror (or any repo Raptor keeps): first in this process (no polling), then across processes. */
export async function withMirrorLock<T>(mirror: string, fn: () => Promise<T>): Promise<T> {
  const prev = inProcess.get(mirror) ?? Promise.resolve();
  const next = prev.catch(() => {}).then(() => withDirLock(`${mirror}.lock`, fn));
  inProcess.set(mirror, next);
  try {
    return await next;
  } finally {
    if (inProcess.get(mirror) === next) inProcess.delete(mirror);
  }
}

// ---- mirror -----------------------------------------------------------------------------------

/** argv for git on a mirror; auto-gc off so a fetch never prunes objects under a concurrent export. */
function git(mirror: string, args: readonly string[]): string[] {
  return ["git", "--git-dir", mirror, "-c", "gc.auto=0", ...args];
}

/**
 * A repo URL split for git: the URL without its user and password (what goes on git's command
 * line and into the mirror's config, both visible to others), and the credentials, which reach
 * git only through GIT_ASKPASS (a constant script answering from its environment). Pure.
 */
export function splitCredentials(repo: string): { url: string; username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(repo);
  } catch {
    return { url: repo }; // a local path or scp-like `user@host:path`: no password in it
  }
  if (!u.username && !u.password) return { url: repo };
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return { url: u.toString(), username: username || undefined, password: password || undefined };
}

/** GIT_ASKPASS answers `Username for ...` and `Password for ...` from these variables. */
const ASKPASS = '#!/bin/sh\ncase "$1" in\n  Username*) printf \'%s\\n\' "$RAPTOR_GIT_USERNAME" ;;\n  *) printf \'%s\\n\' "$RAPTOR_GIT_PASSWORD" ;;\nesac\n';

/** git's environment for one repo: gitEnv, plus the askpass script and its answers when the URL had credentials. */
async function remoteEnv(repo: string, mirror: string): Promise<{ url: string; env: NodeJS.ProcessEnv }> {
  const c = splitCredentials(repo);
  if (c.username === undefined && c.password === undefined) return { url: c.url, env: gitEnv() };
  const askpass = join(dirname(mirror), "askpass.sh");
  if (!existsSync(askpass)) {
    await mkdir(dirname(askpass), { recursive: true });
    await writeFile(`${askpass}.tmp`, ASKPASS, { mode: 0o700 });
    await rename(`${askpass}.tmp`, askpass);
  }
  // A token alone (https://TOKEN@host/...) is the username for some hosts, the password for others.
  const user = c.username ?? "x-access-token";
  const pass = c.password ?? c.username ?? "";
  return { url: c.url, env: { ...gitEnv(), GIT_ASKPASS: askpass, RAPTOR_GIT_USERNAME: user, RAPTOR_GIT_PASSWORD: pass } };
}

/**
 * Clones the mirror if missing, else fetches. Call with the mirror lock held. A clone or fetch
 * that fails is a `repo_unreadable` BuildError saying what git said (git-failure.ts); its argv,
 * with the mirror's path, is only in the error's `detail` (raptor.log).
 */
async function refreshMirror(repo: string, mirror: string): Promise<void> {
  const remote = await remoteEnv(repo, mirror);
  if (existsSync(join(mirror, "HEAD"))) {
    // The config keeps the URL without credentials (older mirrors may have stored them).
    await runOk(git(mirror, ["config", "remote.origin.url", remote.url]), { env: gitEnv() });
    await readRemote(repo, git(mirror, ["fetch", "--prune", "--quiet", "origin"]), { env: remote.env }, [mirror, dirname(mirror)]);
    return;
  }
  const tmp = `${mirror}.tmp-${randomBytes(4).toString("hex")}`;
  await mkdir(dirname(mirror), { recursive: true });
  try {
    await readRemote(repo, ["git", "clone", "--mirror", "--quiet", "--", remote.url, tmp], { env: remote.env, timeoutMs: 15 * 60_000 }, [tmp, mirror, dirname(mirror)]);
    await rm(mirror, { recursive: true, force: true }); // a half-made leftover, if any
    await rename(tmp, mirror);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** What of a URL's user info is secret: the password, or a user alone (a token as https://TOKEN@host/...). */
function secretsOf(c: { username?: string; password?: string }): string[] {
  return c.password ? [c.password] : c.username ? [c.username] : [];
}

/** Runs a git command that reads the remote repo; its failure says what git said, for the channel. */
async function readRemote(repo: string, argv: readonly string[], opts: RunOptions, hidden: readonly string[]): Promise<void> {
  const r = await run(argv, opts);
  if (r.code === 0) return;
  const c = splitCredentials(repo);
  // Hidden as given and resolved: git prints a relative data dir's paths either way.
  const paths = [...new Set(hidden.flatMap((p) => [p, resolve(p)]))];
  const failure = { repo: c.url, stderr: r.stderr, timedOut: r.timedOut, durationMs: r.durationMs, hidden: paths, secrets: secretsOf(c) };
  throw new BuildError("repo_unreadable", repoUnreadableText(failure), { retryable: gitFailureIsTransient(failure), detail: describeFailure(argv, r) });
}

async function hasCommit(mirror: string, commit: string): Promise<boolean> {
  if (!existsSync(join(mirror, "HEAD"))) return false;
  const r = await run(git(mirror, ["cat-file", "-e", "--end-of-options", `${commit}^{commit}`]), { env: gitEnv() });
  return r.code === 0;
}

async function listRefs(mirror: string): Promise<{ branches: string[]; tags: string[] }> {
  const out = await runOk(
    git(mirror, ["for-each-ref", "--sort=-creatordate", "--format=%(refname)", "refs/heads", "refs/tags"]),
    { env: gitEnv() },
  );
  const branches: string[] = [];
  const tags: string[] = [];
  for (const line of out.split("\n")) {
    if (line.startsWith("refs/heads/")) branches.push(line.slice("refs/heads/".length));
    else if (line.startsWith("refs/tags/")) tags.push(line.slice("refs/tags/".length));
  }
  return { branches, tags };
}

function refNotFound(repo: string, ref: string, refs: { branches: string[]; tags: string[] }): BuildError {
  const some = (xs: string[]) => (xs.length ? xs.slice(0, 5).map((x) => `\`${x}\``).join(", ") + (xs.length > 5 ? ", …" : "") : "none");
  const hint = didYouMean(ref, [...refs.branches, ...refs.tags]);
  return new BuildError(
    "ref_not_found",
    `No branch, tag or commit \`${ref}\` in ${splitCredentials(repo).url}.${hint} Branches: ${some(refs.branches)}. Tags: ${some(refs.tags)}.`,
  );
}

/**
 * Resolves a branch, tag (peeled) or sha (full or abbreviated) to a commit, fetching first so a
 * branch resolves to its newest commit. Refuses refs that could be read as options.
 */
export async function resolveRef(repo: string, ref: string, opts: GitOptions): Promise<ResolvedRef> {
  validateRef(ref);
  const mirror = mirrorPath(repo, opts);
  return withMirrorLock(mirror, async () => {
    // A full sha already here needs no fetch: commits are immutable.
    if (!(COMMIT_SHA.test(ref) && (await hasCommit(mirror, ref)))) await refreshMirror(repo, mirror);
    const argv = git(mirror, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
    const r = await run(argv, { env: gitEnv() });
    const commit = r.stdout.trim();
    if (r.code !== 0 || !COMMIT_SHA.test(commit)) {
      if (r.code === 1 || r.code === 128) throw refNotFound(repo, ref, await listRefs(mirror));
      throw new BuildError("internal", describeFailure(argv, r), { retryable: true });
    }
    return { commit, shortSha: commit.slice(0, 7) };
  });
}

/**
 * Writes the tree of `commit` (no .git, export-ignore honoured, no submodules, every blob as
 * stored: see MIRROR_ATTRIBUTES) into `dest`,
 * which is created: `git archive` piped into `tar -x`. Fetches first if the mirror lacks it.
 * With `maxBytes`, a tree whose files add up to more is refused (`build_failed`, naming its size
 * and the limit) before anything is written: git keeps a file of zeros in a few KB, the
 * checkout does not (engine/builds/size-limit.ts).
 */
export async function exportCommit(repo: string, commit: string, dest: string, opts: GitOptions & { maxBytes?: number }): Promise<void> {
  if (!COMMIT_SHA.test(commit)) throw new BuildError("invalid", `exportCommit needs a full commit sha, got \`${commit.slice(0, 60)}\``);
  const mirror = mirrorPath(repo, opts);
  await mkdir(dest, { recursive: true });
  await withMirrorLock(mirror, async () => {
    if (!(await hasCommit(mirror, commit))) {
      await refreshMirror(repo, mirror);
      if (!(await hasCommit(mirror, commit))) throw refNotFound(repo, commit, await listRefs(mirror));
    }
    await neutraliseAttributes(mirror);
    let streamCap: number | undefined;
    if (opts.maxBytes !== undefined) {
      const lsTree = await runOk(git(mirror, ["ls-tree", "-r", "-l", "-z", "--full-tree", "--end-of-options", commit]), { env: gitEnv() });
      const bytes = treeBytes(lsTree);
      if (bytes > opts.maxBytes) throw tooLargeError(`the checkout of ${commit.slice(0, 7)}`, bytes, opts.maxBytes);
      streamCap = archiveCap(lsTree);
    }
    await archiveInto(mirror, commit, dest, streamCap === undefined ? undefined : { cap: streamCap, limit: opts.maxBytes! });
  });
}

/**
 * What `$GIT_DIR/info/attributes` of every mirror holds: it outranks the commit's own
 * `.gitattributes`, so `git archive` writes each blob as it is stored. Unset are the attributes
 * that make the checkout larger than its tree: `export-subst` (`$Format:%B$` expands to the commit
 * message, once per placeholder: red team N3, a 183 KB repo wrote 1.5 GB), `ident` (`$Id$` grows
 * 12x), `text`/`eol` (LF to CRLF), `working-tree-encoding` (UTF-8 to UTF-16/32) and `filter`.
 * `export-ignore` still applies. A Heroku-style build of a pushed commit sees none of them either.
 */
export const MIRROR_ATTRIBUTES = "* -export-subst -ident -text -eol -working-tree-encoding -filter\n";

async function neutraliseAttributes(mirror: string): Promise<void> {
  const file = join(mirror, "info", "attributes");
  const have = await readFile(file, "utf8").catch(() => undefined);
  if (have === MIRROR_ATTRIBUTES) return;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, MIRROR_ATTRIBUTES);
  await rename(`${file}.tmp`, file);
}

/**
 * The most bytes an honest `git archive` of this tree can stream (pure, from `git ls-tree -r -l
 * -z` output): its blobs plus, per entry, a header, a long-name (pax) record of the path, the
 * padding and room for its directory's entry. A stream past it means git wrote more than the tree
 * holds (an attribute the mirror's info/attributes did not unset): the export stops there.
 */
export function archiveCap(lsTree: string): number {
  let cap = treeBytes(lsTree) + 64 * 1024;
  for (const entry of lsTree.split("\0")) {
    const tab = entry.indexOf("\t");
    if (tab >= 0) cap += 4096 + 2 * Buffer.byteLength(entry.slice(tab + 1));
  }
  return cap;
}

function archiveInto(mirror: string, commit: string, dest: string, bound?: { cap: number; limit: number }): Promise<void> {
  const gitArgv = git(mirror, ["archive", "--format=tar", "--end-of-options", commit]);
  const tarArgv = ["tar", "-x", "-f", "-", "-C", dest] as const;
  return new Promise((resolve, reject) => {
    const g = spawn("git", gitArgv.slice(1), { env: gitEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    const t = spawn(tarArgv[0], tarArgv.slice(1), { stdio: ["pipe", "ignore", "pipe"], detached: true });
    let gErr = "";
    let tErr = "";
    g.stderr.setEncoding("utf8").on("data", (d: string) => (gErr += d));
    t.stderr.setEncoding("utf8").on("data", (d: string) => (tErr += d));
    let streamed = 0;
    let overCap = false;
    if (bound) {
      g.stdout.on("data", (d: Buffer) => {
        streamed += d.length;
        if (streamed > bound.cap && !overCap) {
          overCap = true;
          killTree(g);
          killTree(t);
        }
      });
    }
    g.stdout.pipe(t.stdin);
    t.stdin.on("error", () => {}); // EPIPE when tar dies first; its exit code says why
    const timer = setTimeout(() => {
      killTree(g);
      killTree(t);
    }, 10 * 60_000);
    let pending = 2;
    const codes: { g?: number | null; t?: number | null } = {};
    const done = () => {
      if (--pending > 0) return;
      clearTimeout(timer);
      if (overCap && bound) {
        return reject(
          new BuildError(
            "build_failed",
            `the checkout of ${commit.slice(0, 7)} grew past ${bytesText(bound.cap)} while it was unpacked, over the build size limit of ${bytesText(bound.limit)} (${MAX_BUILD_SIZE_VAR}): git wrote more than its tree holds. Remove the attributes that expand files (.gitattributes) or raise ${MAX_BUILD_SIZE_VAR}`,
          ),
        );
      }
      if (codes.g === 0 && codes.t === 0) return resolve();
      reject(
        new BuildError("internal", `exporting ${commit.slice(0, 7)} failed: git archive exit ${codes.g}, tar exit ${codes.t}\n${(gErr + tErr).trim().slice(-2000)}`, {
          retryable: true,
        }),
      );
    };
    g.on("error", reject);
    t.on("error", reject);
    g.on("close", (code) => ((codes.g = code), done()));
    t.on("close", (code) => ((codes.t = code), done()));
  });
}

// ---- commit ranges ----------------------------------------------------------------------------

/** Fields and records of `git log` output: unit and record separators, which no subject holds. */
const LOG_FORMAT = "--format=%H%x1f%s%x1f%an%x1e";

/**
 * The commits between two commits of `repo` (full shas; `from` absent on a first deploy): those in
 * `to` and not in `from` (added) and those in `from` and not in `to` (removed, as a rollback takes
 * them away), newest first, at most MAX_LISTED_COMMITS each, with full counts. Fetches when the
 * mirror lacks either commit. Argv only; the shas are checked before they reach git.
 * Throws BuildError `ref_not_found` when a commit is not in the repo.
 */
export async function commitRange(repo: string, from: string | undefined, to: string, opts: GitOptions): Promise<CommitRange> {
  for (const c of [from, to]) if (c !== undefined && !COMMIT_SHA.test(c)) throw new BuildError("invalid", `commitRange needs full commit shas, got \`${c.slice(0, 60)}\``);
  // The same commit on both sides (a config change, a restart's release): nothing comes or goes.
  if (from === to) return { from: from.slice(0, 7), to: to.slice(0, 7), added: [], addedCount: 0, removed: [], removedCount: 0 };
  const mirror = mirrorPath(repo, opts);
  const wanted = [from, to].filter((c): c is string => c !== undefined);
  // Only a fetch needs the mirror's lock. Commits already here are read without it: git's readers
  // never see a half-written object or ref, and gc is off. Under the lock, every release step of
  // every app built from one repo took turns across all workers (bench/throughput.ts: the release
  // step grew to 1.5-2.6 s with 20 deployments at once, its lock polled between processes).
  const here = async () => (await Promise.all(wanted.map((c) => hasCommit(mirror, c)))).every(Boolean);
  if (!(await here())) {
    await withMirrorLock(mirror, async () => {
      for (const c of wanted) {
        if (await hasCommit(mirror, c)) continue;
        await refreshMirror(repo, mirror);
        if (!(await hasCommit(mirror, c))) throw refNotFound(repo, c, await listRefs(mirror));
      }
    });
  }
  const side = async (spec: string[]): Promise<{ list: CommitLine[]; count: number }> => {
    const log = await runOk(git(mirror, ["log", "--no-color", LOG_FORMAT, `--max-count=${MAX_LISTED_COMMITS}`, "--end-of-options", ...spec]), { env: gitEnv() });
    const count = Number((await runOk(git(mirror, ["rev-list", "--count", "--end-of-options", ...spec]), { env: gitEnv() })).trim());
    const list = log
      .split("\x1e")
      .map((r) => r.replace(/^\n/, ""))
      .filter((r) => r.length > 0)
      .map((r) => {
        const [sha = "", subject = "", author = ""] = r.split("\x1f");
        return { sha: sha.slice(0, 7), subject, author };
      });
    return { list, count: Number.isFinite(count) ? count : list.length };
  };
  const added = await side(from ? [`${from}..${to}`] : [to]);
  const removed = from ? await side([`${to}..${from}`]) : { list: [], count: 0 };
  return { ...(from ? { from: from.slice(0, 7) } : {}), to: to.slice(0, 7), added: added.list, addedCount: added.count, removed: removed.list, removedCount: removed.count };
}
