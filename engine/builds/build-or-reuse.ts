import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "../../db/client.ts";
import { compile, detect, detectRule, release, resolveBuildpacks } from "./buildpack.ts";
import { BuildError, tailLines } from "./build-error.ts";
import { runOk } from "./exec.ts";
import { exportCommit } from "./git.ts";
import { BuildSandbox } from "./sandbox.ts";
import { readInTree } from "./tree-read.ts";
import type { BuildStore } from "./store.ts";
import { DirectoryBuildStore } from "./store-dir.ts";
import { parseProcfile } from "./procfile.ts";
import { dirBytes, tooLargeError } from "./size-limit.ts";
import { DEFAULT_MAX_BUILD_BYTES } from "../../lib/byte-size.ts";
import { COMMIT_SHA } from "../../lib/names.ts";
import { withoutVerbatimMarks } from "../../lib/verbatim.ts";
import { claimBuild, failBuild, findBuild, getBuild, reclaimMissingBuild, STALE_BUILD_MS, succeedBuild, takeOverBuild } from "../../db/queries/builds.ts";
import type { BuildRow } from "../../db/schema/index.ts";

export interface BuildOrReuseOptions {
  db: Db;
  app: string;
  /** Repo URL or local path (from the playbook). */
  repo: string;
  /** Full commit sha, from resolveRef. */
  commit: string;
  /** `nodejs`, `custom`, a path, or undefined/"auto" for detection (custom, then nodejs). */
  buildpack?: string;
  /** Root of local state: `builds/`, `cache/`, `tmp/` live under it. */
  dataDir: string;
  /** Where the tarball is kept (engine/builds/store.ts). Default: the directory `<dataDir>/builds`. */
  store?: BuildStore;
  /**
   * Applied to every log line and error message before it is kept (builds.log), passed to
   * `onLog`, or thrown: the redactor over every app's secrets (engine/redact.ts).
   */
  redact?: (text: string) => string;
  /** Each build log line as it comes (already redacted). Only called when this call builds (not when reused). */
  onLog?: (line: string) => void;
  /** How long to wait for another worker's build of the same key. Default 35 minutes. */
  waitTimeoutMs?: number;
  /** Poll interval while waiting. Default 500 ms. */
  pollMs?: number;
  /** Kill bin/compile after this long. Default 20 minutes (below the 30-minute stale age). */
  compileTimeoutMs?: number;
  /**
   * The build size limit, bytes (RAPTOR_MAX_BUILD_SIZE): the checkout and the compiled build
   * directory may not be larger (engine/builds/size-limit.ts). Default 1 GiB.
   */
  maxBytes?: number;
}

export interface BuildOrReuseResult {
  build: BuildRow;
  /** True when an existing build (or one another worker just finished) was used. */
  reused: boolean;
}

const TAIL = 40;

/**
 * The build for app + commit + buildpack: reused when it exists, built once otherwise. When
 * another worker is building it, waits for that row instead of building twice; a failed build is
 * built again on request; a `running` row older than 30 minutes is taken over.
 */
export async function buildOrReuse(opts: BuildOrReuseOptions): Promise<BuildOrReuseResult> {
  if (!COMMIT_SHA.test(opts.commit)) throw new BuildError("invalid", `buildOrReuse needs a full commit sha, got \`${opts.commit.slice(0, 60)}\``);
  const key = { app: opts.app, commit: opts.commit, buildpack: opts.buildpack || "auto" };
  resolveBuildpacks(opts.buildpack); // refuse an unknown buildpack before claiming a row
  const deadline = Date.now() + (opts.waitTimeoutMs ?? STALE_BUILD_MS + 5 * 60_000);
  const pollMs = opts.pollMs ?? 500;
  let waitedFor: string | undefined;
  for (;;) {
    const claimed = await claimBuild(opts.db, key);
    if (claimed) return { build: await runBuild(opts, claimed), reused: false };
    const row = await findBuild(opts.db, key);
    if (!row) continue; // deleted between insert and select: claim again
    if (row.status === "succeeded") {
      if (await storeOf(opts).has(row.id)) return { build: row, reused: true };
      const lease = await reclaimMissingBuild(opts.db, row);
      if (lease) {
        opts.onLog?.(`-----> build ${row.id.slice(0, 8)} is not in the build store (${storeOf(opts).where}): building it again`);
        return { build: await runBuild(opts, lease), reused: false };
      }
      continue; // another worker reclaimed it first: wait for that build
    }
    if (row.status === "failed" && waitedFor === row.id) {
      // The build we were waiting for failed: report it rather than failing a second time.
      throw failedError(`build of ${key.app} ${key.commit.slice(0, 7)} failed in another worker`, row.log);
    }
    const taken = await takeOverBuild(opts.db, row.id);
    if (taken) return { build: await runBuild(opts, taken), reused: false };
    if (row.status === "running") waitedFor = row.id;
    if (Date.now() > deadline) {
      throw new BuildError("build_failed", `timed out waiting for the build of ${key.app} ${key.commit.slice(0, 7)} by another worker`, { retryable: true });
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The build store the options name, or the default directory under the data dir. */
function storeOf(opts: BuildOrReuseOptions): BuildStore {
  return opts.store ?? new DirectoryBuildStore(join(opts.dataDir, "builds"));
}

function failedError(message: string, log: string, retryable = false): BuildError {
  const tail = tailLines(log.split("\n"), TAIL).join("\n");
  // The message is one line; the log's tail travels once, as the output shown under it.
  return new BuildError("build_failed", message, { output: tail, retryable });
}

/** Builds into the claimed row. On any failure the row is marked failed with its log kept. */
async function runBuild(opts: BuildOrReuseOptions, lease: BuildRow): Promise<BuildRow> {
  const lines: string[] = [];
  const redact = opts.redact ?? ((t: string) => t);
  const log = (raw: string) => {
    const line = redact(raw);
    lines.push(line);
    opts.onLog?.(line);
  };
  let box: BuildSandbox | undefined;
  let detected: string | undefined;
  try {
    const started = Date.now();
    log(`-----> Building ${opts.app} ${opts.commit.slice(0, 7)}`);
    // One cache per app and buildpack choice, reused across commits (npm's cache is safe to share).
    const cacheKey = (opts.buildpack || "auto").replace(/[^A-Za-z0-9_-]/g, "_");
    // The ENV dir stays empty: builds get no release config, so no secret can reach a build log.
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BUILD_BYTES;
    // The sandbox bounds what the steps write while they run, not only what is left after them.
    box = await BuildSandbox.create({ dataDir: opts.dataDir, app: opts.app, cacheKey, id: `${lease.id}-${randomBytes(4).toString("hex")}`, limitBytes: maxBytes });
    const buildDir = box.buildDir;
    await exportCommit(opts.repo, opts.commit, buildDir, { dataDir: opts.dataDir, maxBytes });
    await box.handOver();

    const candidates = resolveBuildpacks(opts.buildpack);
    const found = await detect(candidates, box);
    if (!found) {
      // Say what each buildpack looks for, so the fix is obvious ("nodejs: a package.json").
      const tried = candidates.map((b) => `${b.name}: ${detectRule(b)}`).join("; ");
      throw new BuildError("build_failed", candidates.length > 1 ? `no buildpack detected this app at ${opts.commit.slice(0, 7)} (${tried})` : `buildpack ${tried} — not found in this app at ${opts.commit.slice(0, 7)}`);
    }
    detected = found.buildpack.name;
    log(`-----> ${found.name} app detected (buildpack ${detected})`);
    await compile(found.buildpack, box, log, { timeoutMs: opts.compileTimeoutMs });

    const rel = await release(found.buildpack, box);
    const procfileText = await readInTree(buildDir, "Procfile");
    const fromProcfile = procfileText === undefined ? {} : parseProcfile(procfileText);
    // Per proc type, the Procfile wins over the buildpack's defaults.
    const procfile = { ...rel.defaultProcessTypes, ...fromProcfile };
    if (Object.keys(procfile).length === 0) {
      throw new BuildError("build_failed", "no proc types: add a Procfile (e.g. `web: node server.js`)");
    }
    log(`-----> Proc types: ${Object.keys(procfile).join(", ")}`);

    // What compile made counts too (dependencies, a sparse file), before it is archived and sent to every host.
    const bytes = await dirBytes(buildDir);
    if (bytes > maxBytes) throw tooLargeError(`the build of ${opts.commit.slice(0, 7)}`, bytes, maxBytes);
    const tmpTar = join(box.work, "build.tar.gz");
    await runOk(["tar", "-czf", tmpTar, "-C", buildDir, "."], { timeoutMs: 10 * 60_000 });
    const md5 = await md5File(tmpTar);
    const final = await storeOf(opts).put(lease.id, tmpTar);
    log(`-----> Stored build ${lease.id} (md5 ${md5}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const row = await succeedBuild(opts.db, lease, { path: final, md5, procfile, configVars: rel.configVars, detected, log: lines.join("\n") });
    if (!row) {
      // Our lease was taken over (we ran past the stale age); the other worker's row is the truth.
      const current = await getBuild(opts.db, lease.id);
      throw new BuildError("build_failed", `build ${lease.id} was taken over by another worker (status ${current?.status ?? "gone"})`, { retryable: true });
    }
    return row;
  } catch (err) {
    const message = redact(err instanceof Error ? err.message : String(err));
    // The build log is printed as it is: the message without the thread's verbatim marks.
    log(` !     ${withoutVerbatimMarks(message).split("\n")[0]}`);
    await failBuild(opts.db, lease, lines.join("\n"), detected).catch(() => {});
    // git/tar trouble (network, disk) is worth a retry; the app's own failures are not.
    const retryable = err instanceof BuildError && err.retryable;
    throw failedError(`build of ${opts.app} ${opts.commit.slice(0, 7)} failed: ${message}`, lines.join("\n"), retryable);
  } finally {
    if (box) await rm(box.work, { recursive: true, force: true }).catch(() => {});
  }
}

/** md5 (hex) of a file, streamed. */
export function md5File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("md5");
    createReadStream(path)
      .on("data", (d) => h.update(d))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}
