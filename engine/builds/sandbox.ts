import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, readlinkSync } from "node:fs";
import { chmod, mkdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { BuildError } from "./build-error.ts";

/**
 * The build sandbox: every buildpack step (detect, compile, release) runs under bubblewrap
 * (`bwrap`, Debian package bubblewrap) with
 *  - its own user, pid, ipc, uts, cgroup and network namespaces, and its own /proc: Raptor's
 *    processes (and their /proc/<pid>/environ) do not exist in there;
 *  - a cleared environment holding only what the buildpack protocol passes (see `sandboxEnv`);
 *  - the system (/usr, /etc, the lib/bin links) read-only, a private /tmp, and nothing else of
 *    the machine: no Raptor checkout, no data dir, no home;
 *  - only the build, cache and env directories writable, mounted at fixed paths (`SANDBOX`);
 *  - an unprivileged uid: when Raptor runs as root, bwrap itself is started as the build user
 *    (`RAPTOR_BUILD_USER`, default `raptor-build`, made by scripts/setup.sh). Mapping root to a
 *    uid inside a user namespace is not enough: the kernel would still see uid 0, owner of
 *    /etc/shadow and the host keys.
 * No network by default (Raptor's Redis and Postgres on loopback are then out of reach);
 * `RAPTOR_BUILD_NETWORK=1` shares the host's network for buildpacks that download (npm
 * install of registry dependencies): only set it where Redis and Postgres demand passwords.
 */

/** Where the sandbox sees its directories; buildpacks get these as BUILD, CACHE and ENV. */
export const SANDBOX = { build: "/build/app", cache: "/build/cache", env: "/build/env", buildpack: "/buildpack" } as const;

/** Host directories mounted into one sandboxed step. */
export interface SandboxMounts {
  /** The app's checkout: writable at /build/app. */
  buildDir: string;
  /** The buildpack's directory: read-only at /buildpack. */
  buildpackDir: string;
  /** Writable at /build/cache (compile only). */
  cacheDir?: string;
  /** Writable at /build/env (compile only). */
  envDir?: string;
  /**
   * The build size limit, bytes (RAPTOR_MAX_BUILD_SIZE). Set, nothing of the host is writable:
   * detect and release see the checkout read-only and get a /tmp of this size; compile works in
   * one tmpfs of this size at /build (app, cache, env and /tmp, a link to /build/tmp), filled
   * from read-only copies of the host directories, and hands back app and cache as a tar stream
   * on fd 3 (COMPILE_WRAPPER). A write past the limit fails with ENOSPC, at any moment, not
   * only at a check after compile (red team N3b: 1.5 GB written and deleted during compile).
   * The tmpfs is memory: a build holds up to this much RAM while it compiles.
   */
  limitBytes?: number;
}

/** Where compile sees read-only copies of the host's app, cache and env directories (limited mode). */
export const SANDBOX_IN = { build: "/build/.in/app", cache: "/build/.in/cache", env: "/build/.in/env" } as const;

/**
 * The script that runs bin/compile inside the limited /build (argv: the compile command). It copies
 * the inputs into the tmpfs, runs compile without fd 3, and on success writes `app` and `cache` as
 * tar to fd 3 for the host to unpack. Constant text: no user input reaches it.
 */
export const COMPILE_WRAPPER = [
  "set -e",
  `cp -a ${SANDBOX_IN.build}/. ${SANDBOX.build}/`,
  `cp -a ${SANDBOX_IN.cache}/. ${SANDBOX.cache}/`,
  `cp -a ${SANDBOX_IN.env}/. ${SANDBOX.env}/`,
  "rc=0",
  '"$@" 3>&- || rc=$?',
  'if [ "$rc" -ne 0 ]; then exit "$rc"; fi',
  "exec tar --sparse -C /build -cf - app cache >&3",
].join("\n");

export interface SandboxSettings {
  /** Share the host's network (default false: a private one with only its own loopback). */
  network: boolean;
  /** Extra read-only directories, mounted at the same path (e.g. node's prefix outside /usr). */
  extraReadOnly: readonly string[];
  /** Top-level links of the host root (`/bin` -> `usr/bin` on merged-/usr systems), recreated inside. */
  rootLinks: Readonly<Record<string, string>>;
  /** Top-level system directories mounted read-only when they are real directories. */
  rootDirs: readonly string[];
}

/** Environment variables passed through from Raptor's own when set (proxies, npm's registry). */
const PASS_THROUGH = ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "npm_config_registry"] as const;

/**
 * The whole environment of a sandboxed step (pure): the buildpack protocol's STACK and CI, a
 * minimal PATH, HOME and locale, and the pass-through names that are set in `from`. Nothing else:
 * not DATABASE_URL, not Slack tokens, not playbook secrets.
 */
export function sandboxEnv(from: NodeJS.ProcessEnv, extraPath: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {
    PATH: [...extraPath, "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    HOME: "/tmp/home",
    TMPDIR: "/tmp",
    LANG: "C.UTF-8",
    STACK: "raptor",
    CI: "true",
  };
  for (const k of PASS_THROUGH) {
    const v = from[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/**
 * The bwrap argv that runs `argv` (paths as the sandbox sees them) inside the sandbox (pure).
 * Order matters to bwrap: mounts are applied left to right, so the binds come after /tmp.
 */
export function bwrapArgv(mounts: SandboxMounts, settings: SandboxSettings, env: Record<string, string>, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new BuildError("internal", "sandbox: empty command");
  const out = ["bwrap", "--unshare-all"];
  if (settings.network) out.push("--share-net");
  out.push("--die-with-parent", "--new-session", "--clearenv");
  for (const dir of settings.rootDirs) out.push("--ro-bind", dir, dir);
  for (const [link, target] of Object.entries(settings.rootLinks)) out.push("--symlink", target, link);
  for (const dir of settings.extraReadOnly) out.push("--ro-bind", dir, dir);
  if (mounts.limitBytes !== undefined) return limitedArgv(out, mounts, mounts.limitBytes, env, argv);
  out.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/home");
  out.push("--ro-bind", mounts.buildpackDir, SANDBOX.buildpack);
  out.push("--bind", mounts.buildDir, SANDBOX.build);
  if (mounts.cacheDir !== undefined) out.push("--bind", mounts.cacheDir, SANDBOX.cache);
  if (mounts.envDir !== undefined) out.push("--bind", mounts.envDir, SANDBOX.env);
  for (const [k, v] of Object.entries(env)) out.push("--setenv", k, v);
  out.push("--chdir", SANDBOX.build, "--", ...argv);
  return out;
}

/** The rest of bwrapArgv with a size limit (see SandboxMounts.limitBytes): no writable host directory. */
function limitedArgv(out: string[], mounts: SandboxMounts, limit: number, env: Record<string, string>, argv: readonly string[]): string[] {
  const size = String(Math.floor(limit));
  out.push("--proc", "/proc", "--dev", "/dev");
  let command = [...argv];
  if (mounts.cacheDir !== undefined && mounts.envDir !== undefined) {
    out.push("--size", size, "--tmpfs", "/build");
    for (const d of [SANDBOX.build, SANDBOX.cache, SANDBOX.env, "/build/tmp", "/build/tmp/home"]) out.push("--dir", d);
    out.push("--symlink", "/build/tmp", "/tmp");
    out.push("--ro-bind", mounts.buildDir, SANDBOX_IN.build, "--ro-bind", mounts.cacheDir, SANDBOX_IN.cache, "--ro-bind", mounts.envDir, SANDBOX_IN.env);
    command = ["/bin/sh", "-c", COMPILE_WRAPPER, "compile", ...argv];
  } else {
    out.push("--size", size, "--tmpfs", "/tmp", "--dir", "/tmp/home");
    out.push("--ro-bind", mounts.buildDir, SANDBOX.build);
  }
  out.push("--ro-bind", mounts.buildpackDir, SANDBOX.buildpack);
  for (const [k, v] of Object.entries(env)) out.push("--setenv", k, v);
  out.push("--chdir", SANDBOX.build, "--", ...command);
  return out;
}

/** The host's top-level system paths: real directories are bound read-only, links recreated. */
export function hostRootLayout(): Pick<SandboxSettings, "rootLinks" | "rootDirs"> {
  const rootLinks: Record<string, string> = {};
  const rootDirs: string[] = [];
  for (const p of ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) rootLinks[p] = readlinkSync(p);
    else if (st.isDirectory()) rootDirs.push(p);
  }
  return { rootLinks, rootDirs };
}

/** The uid and gid sandboxed steps run as; undefined when Raptor is not root (it runs as itself). */
export interface SandboxIdentity {
  uid: number;
  gid: number;
  user: string;
}

let cachedIdentity: SandboxIdentity | undefined | null = null;

/**
 * The build user's ids when Raptor runs as root (`RAPTOR_BUILD_USER`, default `raptor-build`).
 * Throws a BuildError saying how to create it when it is missing: root never builds as itself.
 */
export function sandboxIdentity(env: NodeJS.ProcessEnv = process.env): SandboxIdentity | undefined {
  if (cachedIdentity !== null) return cachedIdentity;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return (cachedIdentity = undefined);
  const user = env.RAPTOR_BUILD_USER || "raptor-build";
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", "--", user], { encoding: "utf8" });
  } catch {
    throw new BuildError("internal", `the build user \`${user}\` does not exist on this worker: run scripts/setup.sh (or \`useradd --system ${user}\`), or name another with RAPTOR_BUILD_USER`);
  }
  const [, , uid, gid] = line.trim().split(":");
  if (Number(uid) === 0) throw new BuildError("internal", `the build user \`${user}\` has uid 0: builds must run unprivileged`);
  return (cachedIdentity = { uid: Number(uid), gid: Number(gid), user });
}

/** Fails with a clear message when bwrap is not installed (there is no unsandboxed fallback). */
export function requireBwrap(): void {
  try {
    execFileSync("bwrap", ["--version"], { stdio: "ignore" });
  } catch {
    throw new BuildError("internal", "bubblewrap (`bwrap`) is not installed on this worker: builds run only sandboxed. Install it (Debian: apt-get install bubblewrap) or run scripts/setup.sh");
  }
}

/**
 * The directory sandboxed builds work in. As root it is `<tmpdir>/raptor-sandbox` (root-owned,
 * 0711), not the data dir: bwrap runs as the build user, who must be able to reach the mounts,
 * and the data dir's parents may be closed to it. Refuses a base someone else made or linked.
 */
export function sandboxBase(dataDir: string, identity: SandboxIdentity | undefined): string {
  if (!identity) return join(dataDir, "tmp");
  const base = join(tmpdir(), "raptor-sandbox");
  mkdirSync(base, { recursive: true, mode: 0o711 });
  const st = lstatSync(base);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new BuildError("internal", `${base} must be a directory owned by root and writable only by it`);
  }
  return base;
}

/**
 * The key of one Raptor installation (its data directory) in the machine-wide sandbox base: 12 hex
 * digits of the sha256 of the resolved path. Build caches live under it, so an app of one
 * installation cannot seed the cache a same-named app of another uses (red team: `hello` of the
 * demo and of a test run shared `/tmp/raptor-sandbox/cache/hello`).
 */
export function installationKey(dataDir: string): string {
  return createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12);
}

/** The settings for this machine: its root layout, node's prefix when outside /usr, the network switch. */
export function hostSandboxSettings(env: NodeJS.ProcessEnv = process.env): SandboxSettings & { extraPath: string[] } {
  const nodeBin = dirname(process.execPath);
  const outside = !nodeBin.startsWith("/usr/") && !nodeBin.startsWith("/bin");
  return {
    ...hostRootLayout(),
    network: env.RAPTOR_BUILD_NETWORK === "1",
    extraReadOnly: outside ? [dirname(nodeBin)] : [],
    extraPath: outside ? [nodeBin] : [],
  };
}

/** One command ready to spawn: the bwrap argv plus the ids and (empty) environment to start it with. */
export interface SandboxCommand {
  argv: string[];
  uid?: number;
  gid?: number;
  env: NodeJS.ProcessEnv;
}

/**
 * One build's sandbox: its host directories (work, build, cache, env) owned by the build user,
 * and the buildpacks staged (copied) into it so bwrap can mount them whatever the permissions of
 * Raptor's own checkout. `command` turns a buildpack step into the argv that runs it inside.
 */
export class BuildSandbox {
  private staged = new Map<string, string>();
  private constructor(
    readonly work: string,
    readonly buildDir: string,
    readonly cacheDir: string,
    readonly envDir: string,
    private readonly identity: SandboxIdentity | undefined,
    private readonly settings: SandboxSettings & { extraPath: string[] },
    /** The build size limit, bytes; undefined: the host directories are bound writable (no bound). */
    readonly limitBytes: number | undefined,
  ) {}

  /** The identity sandboxed steps (and the unpacking of compile's output) run as; undefined when not root. */
  get user(): SandboxIdentity | undefined {
    return this.identity;
  }

  /** Where compile's output (app, cache) is unpacked before it replaces the build and cache directories. */
  get outDir(): string {
    return join(this.work, "out");
  }

  /** Makes outDir, empty and owned by the build user. */
  async prepareOut(): Promise<void> {
    await rm(this.outDir, { recursive: true, force: true });
    await mkdir(this.outDir);
    if (this.identity) execFileSync("chown", ["--no-dereference", "--", `${this.identity.uid}:${this.identity.gid}`, this.outDir]);
  }

  /**
   * Puts compile's output in place: outDir/app becomes the build directory, outDir/cache the
   * app's cache (the old one renamed aside first, so a concurrent build's bind keeps its files).
   */
  async adoptOut(): Promise<void> {
    await rm(this.buildDir, { recursive: true, force: true });
    await rename(join(this.outDir, "app"), this.buildDir);
    const old = `${this.cacheDir}.old-${randomBytes(4).toString("hex")}`;
    // Another build of the app may swap the cache at the same moment: then its cache stays.
    await rename(this.cacheDir, old).catch(() => {});
    await rename(join(this.outDir, "cache"), this.cacheDir).catch(() => {});
    await rm(old, { recursive: true, force: true });
    await rm(this.outDir, { recursive: true, force: true });
    // The next build binds the cache again: it must exist even when the swap lost.
    await mkdir(this.cacheDir, { recursive: true, mode: 0o711 });
  }

  /**
   * Makes a build's directories: `work` (a fresh directory for this build), its `app` and `env`,
   * and the app's buildpack cache, all owned by the build user. The caller exports the commit
   * into `buildDir` and then calls `handOver` before running steps.
   */
  static async create(o: { dataDir: string; app: string; cacheKey: string; id: string; limitBytes?: number }): Promise<BuildSandbox> {
    requireBwrap();
    const identity = sandboxIdentity();
    const base = sandboxBase(o.dataDir, identity);
    const work = join(base, `build-${o.id}`);
    // 0711: the build user passes through to its own app/env dirs and the staged buildpacks.
    await mkdir(work, { recursive: true });
    await chmod(work, identity ? 0o711 : 0o700);
    const cacheRoot = identity ? join(base, "cache", installationKey(o.dataDir)) : join(o.dataDir, "cache", "buildpacks");
    const cacheDir = join(cacheRoot, o.app, o.cacheKey);
    await mkdir(cacheDir, { recursive: true, mode: 0o711 });
    // The build user passes through these to its own cache (mkdir's mode does not touch old dirs).
    if (identity) for (const d of [join(base, "cache"), cacheRoot, join(cacheRoot, o.app)]) await chmod(d, 0o711);
    await mkdir(join(work, "env"), { recursive: true });
    return new BuildSandbox(work, join(work, "app"), cacheDir, join(work, "env"), identity, hostSandboxSettings(), o.limitBytes);
  }

  /** Gives the build, env and cache directories to the build user (no-op when not root). */
  async handOver(): Promise<void> {
    if (!this.identity) return;
    const owner = `${this.identity.uid}:${this.identity.gid}`;
    execFileSync("chown", ["-R", "--no-dereference", "--", owner, this.buildDir, this.envDir, this.cacheDir]);
  }

  /** Copies a buildpack into the work dir (root-owned, read-only inside); returns the copy's path. */
  async stage(bpDir: string): Promise<string> {
    const have = this.staged.get(bpDir);
    if (have) return have;
    const dest = join(this.work, `buildpack-${this.staged.size}`);
    execFileSync("cp", ["-R", "--no-dereference", "--", bpDir, dest]);
    execFileSync("chmod", ["-R", "go+rX,go-w", "--", dest]);
    this.staged.set(bpDir, dest);
    return dest;
  }

  /**
   * The command running `bin/<script>` of a staged buildpack inside the sandbox. detect and
   * release get BUILD; compile gets BUILD CACHE ENV (the buildpack protocol).
   */
  command(stagedBp: string, script: "detect" | "compile" | "release"): SandboxCommand {
    const withCache = script === "compile";
    const mounts: SandboxMounts = { buildDir: this.buildDir, buildpackDir: stagedBp, ...(this.limitBytes === undefined ? {} : { limitBytes: this.limitBytes }) };
    if (withCache) Object.assign(mounts, { cacheDir: this.cacheDir, envDir: this.envDir });
    const args = withCache ? [SANDBOX.build, SANDBOX.cache, SANDBOX.env] : [SANDBOX.build];
    const env = sandboxEnv(process.env, this.settings.extraPath);
    const argv = bwrapArgv(mounts, this.settings, env, [`${SANDBOX.buildpack}/bin/${script}`, ...args]);
    const cmd: SandboxCommand = { argv, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } };
    if (this.identity) Object.assign(cmd, { uid: this.identity.uid, gid: this.identity.gid });
    return cmd;
  }
}
