import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { bytesText } from "../../lib/byte-size.ts";
import { MAX_BUILD_SIZE_VAR } from "./size-limit.ts";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { didYouMean } from "../../lib/suggest.ts";
import { BuildError } from "./build-error.ts";
import { describeFailure, killTree, run } from "./exec.ts";
import { PROC_TYPE } from "../../lib/names.ts";
import { verbatim } from "../../lib/verbatim.ts";
import { SANDBOX, type BuildSandbox } from "./sandbox.ts";

/**
 * The Heroku buildpack protocol: `bin/detect BUILD`, `bin/compile BUILD CACHE ENV`,
 * `bin/release BUILD`. Every step runs in the build sandbox (sandbox.ts): its own namespaces and
 * /proc, a cleared environment, an unprivileged uid; never with the worker's own environment,
 * which holds DATABASE_URL, Slack tokens and the like.
 */
export interface Buildpack {
  /** `nodejs`, `custom`, or the path it was named by. */
  name: string;
  /** Directory holding `bin/detect`, `bin/compile`, `bin/release`. */
  dir: string;
}

export interface ReleaseInfo {
  defaultProcessTypes: Record<string, string>;
  configVars: Record<string, string>;
}

/**
 * What a buildpack's `bin/detect` looks for, in words: the comment it starts with
 * (`# bin/detect BUILD_DIR: a Node.js app has a package.json.` -> "a Node.js app has a
 * package.json"), else a generic phrase. Read for error messages only.
 */
export function detectRule(bp: Buildpack): string {
  try {
    const m = /^#\s*bin\/detect[^:\n]*:\s*(.+?)\.?\s*$/m.exec(readFileSync(join(bp.dir, "bin", "detect"), "utf8"));
    if (m) return m[1]!;
  } catch {
    // no readable bin/detect: fall through
  }
  return "whatever its bin/detect looks for";
}

/** The buildpacks shipped in this repo, in detection order. */
export const SHIPPED_BUILDPACKS = ["custom", "nodejs"] as const;
export const shippedBuildpacksDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../buildpacks");

/**
 * The buildpacks to try for an app: the one it names (a shipped name, or a path, absolute or
 * relative to `baseDir`), else all shipped ones in detection order.
 */
export function resolveBuildpacks(requested?: string, baseDir = process.cwd()): Buildpack[] {
  if (!requested || requested === "auto") return SHIPPED_BUILDPACKS.map((name) => ({ name, dir: join(shippedBuildpacksDir, name) }));
  if ((SHIPPED_BUILDPACKS as readonly string[]).includes(requested)) return [{ name: requested, dir: join(shippedBuildpacksDir, requested) }];
  if (requested.includes("/")) {
    const dir = isAbsolute(requested) ? requested : resolve(baseDir, requested);
    if (!existsSync(join(dir, "bin", "compile"))) throw new BuildError("invalid", `buildpack \`${requested}\` has no bin/compile (looked in ${dir})`);
    return [{ name: requested, dir }];
  }
  throw new BuildError(
    "invalid",
    `unknown buildpack \`${requested}\`.${didYouMean(requested, SHIPPED_BUILDPACKS)} Use ${SHIPPED_BUILDPACKS.join(" or ")}, or a path to a buildpack directory.`,
  );
}

/**
 * Runs each buildpack's `bin/detect BUILD` in order, inside the sandbox; the first exit 0 wins
 * (stdout = its name).
 */
export async function detect(buildpacks: readonly Buildpack[], box: BuildSandbox): Promise<{ buildpack: Buildpack; name: string } | null> {
  for (const bp of buildpacks) {
    if (!existsSync(join(bp.dir, "bin", "detect"))) continue;
    const cmd = box.command(await box.stage(bp.dir), "detect");
    const r = await run(cmd.argv, { env: cmd.env, uid: cmd.uid, gid: cmd.gid, timeoutMs: 60_000 });
    if (r.code === 0) return { buildpack: bp, name: r.stdout.trim().split("\n")[0] || basename(bp.dir) };
  }
  return null;
}

export interface CompileOptions {
  /** Kill bin/compile (and its children) after this long. Default 20 minutes: below the
   * 30-minute age at which another worker may take over a `running` build. */
  timeoutMs?: number;
}

/**
 * Runs `bin/compile BUILD CACHE ENV` inside the sandbox, stdout and stderr merged, each line passed
 * to `onLog` as it comes. Resolves on exit 0; rejects with a `build_failed` BuildError otherwise.
 */
export async function compile(bp: Buildpack, box: BuildSandbox, onLog: (line: string) => void, opts: CompileOptions = {}): Promise<void> {
  const script = join(bp.dir, "bin", "compile");
  const cmd = box.command(await box.stage(bp.dir), "compile");
  const started = Date.now();
  const limit = box.limitBytes;
  if (limit !== undefined) await box.prepareOut();
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), {
      env: cmd.env,
      uid: cmd.uid,
      gid: cmd.gid,
      stdio: limit === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", "pipe", "pipe", "pipe"],
      detached: true,
    });
    // Limited: the compiled app and cache come back as tar on fd 3, unpacked as the build user.
    const out = limit === undefined ? undefined : unpackOutput(child.stdio[3] as Readable, box, limit);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child);
    }, opts.timeoutMs ?? 20 * 60_000);
    let full = false;
    const split = lineSplitter((line) => {
      if (limit !== undefined && NO_SPACE.test(line)) full = true;
      onLog(line);
    });
    child.stdout!.setEncoding("utf8").on("data", split.push);
    child.stderr!.setEncoding("utf8").on("data", split.push);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new BuildError("build_failed", `cannot run ${script}: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      split.end();
      // A full sandbox fails the build even when compile went on (`head ... ; rm big.bin` exits 0).
      if (full && limit !== undefined) {
        out?.kill();
        return reject(new BuildError("build_failed", `the build wrote more than ${bytesText(limit)} (${MAX_BUILD_SIZE_VAR}): bin/compile of buildpack ${bp.name} ran out of room. Write less during the build, or raise ${MAX_BUILD_SIZE_VAR}`));
      }
      if (code === 0) return out ? out.done.then(resolvePromise, reject) : resolvePromise();
      out?.kill();
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const how = timedOut ? "timed out" : code !== null ? `exited with ${code}` : `was killed by ${signal}`;
      reject(new BuildError("build_failed", `bin/compile of buildpack ${bp.name} ${how} after ${secs} s`));
    });
  });
  if (limit !== undefined) await box.adoptOut();
}

/** What a full tmpfs makes programs print (coreutils, node's ENOSPC). */
const NO_SPACE = /No space left on device|ENOSPC/;

/**
 * Unpacks compile's tar stream (fd 3) into the sandbox's outDir as the build user. The stream may
 * carry at most twice the limit plus 64 MiB (headers of many small files); past that, both sides
 * are killed and the build fails naming the limit.
 */
function unpackOutput(stream: Readable, box: BuildSandbox, limit: number): { done: Promise<void>; kill: () => void } {
  const cap = 2 * limit + 64 * 1024 * 1024;
  const user = box.user;
  const t = spawn("tar", ["-x", "-f", "-", "-C", box.outDir], {
    stdio: ["pipe", "ignore", "pipe"],
    detached: true,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  let err = "";
  let seen = 0;
  let over = false;
  t.stderr.setEncoding("utf8").on("data", (d: string) => (err += d).length > 4000 && (err = err.slice(-2000)));
  stream.on("data", (d: Buffer) => {
    seen += d.length;
    if (seen > cap && !over) {
      over = true;
      stream.destroy();
      killTree(t);
    }
  });
  stream.pipe(t.stdin);
  t.stdin.on("error", () => {});
  const done = new Promise<void>((resolve, reject) => {
    t.on("error", reject);
    t.on("close", (code) => {
      if (over) return reject(new BuildError("build_failed", `the build wrote more than ${bytesText(limit)} (${MAX_BUILD_SIZE_VAR}): its output passed ${bytesText(cap)}`));
      if (code === 0) return resolve();
      reject(new BuildError("internal", `unpacking the compiled build failed: tar exit ${code}\n${err.trim().slice(-2000)}`, { retryable: true }));
    });
  });
  done.catch(() => {}); // awaited only when compile succeeds; a failed compile's reason wins
  return { done, kill: () => killTree(t) };
}

/** Turns chunks into whole lines (stdout and stderr interleave only at line boundaries per stream). */
function lineSplitter(onLine: (line: string) => void) {
  let buf = "";
  return {
    push: (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, nl).replace(/\r$/, ""));
        buf = buf.slice(nl + 1);
      }
    },
    end: () => {
      if (buf) onLine(buf);
      buf = "";
    },
  };
}

/** Runs `bin/release BUILD` inside the sandbox and parses its YAML. No bin/release, or empty output, is `{}`. */
export async function release(bp: Buildpack, box: BuildSandbox): Promise<ReleaseInfo> {
  if (!existsSync(join(bp.dir, "bin", "release"))) return { defaultProcessTypes: {}, configVars: {} };
  const cmd = box.command(await box.stage(bp.dir), "release");
  const r = await run(cmd.argv, { env: cmd.env, uid: cmd.uid, gid: cmd.gid, timeoutMs: 60_000 });
  if (r.code !== 0) throw new BuildError("build_failed", `bin/release of buildpack ${bp.name}: ${describeFailure(["bin/release", SANDBOX.build], r)}`);
  return parseRelease(r.stdout, bp.name);
}

/** Parses bin/release output (pure). Values are stringified; non-mapping sections are errors. */
export function parseRelease(text: string, bpName = "buildpack"): ReleaseInfo {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new BuildError("build_failed", `bin/release of ${bpName} printed invalid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return { defaultProcessTypes: {}, configVars: {} };
  if (typeof doc !== "object" || Array.isArray(doc)) throw new BuildError("build_failed", `bin/release of ${bpName} must print a YAML mapping`);
  const d = doc as Record<string, unknown>;
  const defaultProcessTypes = stringMap(d.default_process_types, "default_process_types", bpName);
  for (const name of Object.keys(defaultProcessTypes)) {
    // The same rule as a Procfile's names: they become proc names, paths and supervisor programs.
    if (!PROC_TYPE.test(name)) {
      throw new BuildError("build_failed", `bin/release of ${bpName}: default_process_types name \`${verbatim(name.slice(0, 60))}\` must be lowercase letters, digits, _ or - (starting with a letter or digit, at most 63)`);
    }
  }
  return {
    defaultProcessTypes,
    configVars: stringMap(d.config_vars, "config_vars", bpName),
  };
}

function stringMap(v: unknown, what: string, bpName: string): Record<string, string> {
  if (v === null || v === undefined) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new BuildError("build_failed", `bin/release of ${bpName}: ${what} must be a mapping`);
  const out: [string, string][] = [];
  for (const [k, val] of Object.entries(v)) {
    if (val === null || typeof val === "object") throw new BuildError("build_failed", `bin/release of ${bpName}: ${what}.${k} must be a string`);
    out.push([k, String(val)]);
  }
  // fromEntries defines own keys: `__proto__` stays an ordinary key, never the prototype.
  return Object.fromEntries(out);
}
