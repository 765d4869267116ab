import type { ErrorCode } from "../lib/error-codes.ts";
import { dump } from "js-yaml";
import { ENV_KEY, ENV_NAME, IDENT, PROC_TYPE, UNIX_NAME } from "../lib/names.ts";
import { shellJoin, shellQuote } from "./shell.ts";

/**
 * How a proc is laid out on a host: its name, its paths and the text of every file Raptor writes
 * for it. Pure; host-layout.ts packs them for one host and process-runner.ts runs that.
 *
 *   <root>/builds/<build id>.tar.gz        the build, uploaded once per host
 *   <root>/procs/<name>/                   the unpacked build, proc.yaml, settings.yaml
 *   <root>/procs/<name>/.raptor/{env,run.sh}   the launcher and its environment
 *   <root>/supervisor/<name>.conf          one [program:<name>] per proc, included by supervisord
 *   <root>/logs/<name>.log                 stdout+stderr, rotated by supervisord
 */

/** A config value or name that cannot be written safely; the message names the key, never the value. */
export class UnsafeLayoutError extends Error {
  readonly code = "invalid" satisfies ErrorCode;
  constructor(message: string) {
    super(message);
    this.name = "UnsafeLayoutError";
  }
}

const BUILD_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Paths that go into supervisor's ini verbatim: no spaces, quotes, `%`, `;`, `#` or controls. */
const SAFE_PATH_RE = /^\/[A-Za-z0-9_./@+,:=-]*$/;
/** A supervisor program name that is also a safe file name (no `:`, which supervisor reserves). */
const PROGRAM_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Built from the name patterns (their anchors dropped), so it reads back every name procName makes. */
const NAME_RE = new RegExp(`^(.+)-(${ENV_NAME.source.slice(1, -1)})-v([1-9][0-9]*)-(${PROC_TYPE.source.slice(1, -1)})-([0-9]+|w[0-9]+)$`);

export interface ProcNameParts {
  app: string;
  env: string;
  release: number;
  procType: string;
  /** The proc's port; procs without one (workers) are told apart by `index`. */
  port?: number;
  index?: number;
}

/**
 * `<app>-<env>-v<release>-<proctype>-<port | "w" + index>`, e.g. `web-production-v42-web-5003`.
 * The name is for people reading `supervisorctl status`; the procs table row is the truth.
 * Environment names may not contain `-` (so the name parses back); app names may.
 */
export function procName(p: ProcNameParts): string {
  if (!IDENT.test(p.app)) throw new UnsafeLayoutError(`app name ${JSON.stringify(p.app)} must match ${IDENT.source}`);
  if (!ENV_NAME.test(p.env)) throw new UnsafeLayoutError(`environment name ${JSON.stringify(p.env)} must match ${ENV_NAME.source}`);
  if (!PROC_TYPE.test(p.procType)) throw new UnsafeLayoutError(`proc type ${JSON.stringify(p.procType)} must match ${PROC_TYPE.source}`);
  if (!Number.isInteger(p.release) || p.release < 1) throw new UnsafeLayoutError(`release must be a positive integer, got ${p.release}`);
  let slot: string;
  if (p.port !== undefined) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new UnsafeLayoutError(`port out of range: ${p.port}`);
    slot = String(p.port);
  } else {
    if (p.index === undefined || !Number.isInteger(p.index) || p.index < 0) throw new UnsafeLayoutError("a proc without a port needs a non-negative index");
    slot = `w${p.index}`;
  }
  return `${p.app}-${p.env}-v${p.release}-${p.procType}-${slot}`;
}

/** Reads a name made by procName back; anything else (a foreign program) gives undefined. */
export function parseProcName(name: string): (ProcNameParts & { name: string }) | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const [, app, env, release, procType, slot] = m as unknown as [string, string, string, string, string, string];
  if (!IDENT.test(app)) return undefined;
  const parts: ProcNameParts & { name: string } = { name, app, env, release: Number(release), procType };
  if (slot.startsWith("w")) parts.index = Number(slot.slice(1));
  else parts.port = Number(slot);
  return parts;
}

/** The squad's root for one host (`/srv/{host}` -> `/srv/10.0.0.5`); checked safe for the ini. */
export function expandRoot(root: string, hostName: string): string {
  const expanded = root.split("{host}").join(hostName).replace(/\/+$/, "");
  return safePath(expanded, "root");
}

export function buildTarballPath(root: string, buildId: string): string {
  if (!BUILD_ID_RE.test(buildId)) throw new UnsafeLayoutError(`build id ${JSON.stringify(buildId)} must match ${BUILD_ID_RE.source}`);
  return `${safePath(root, "root")}/builds/${buildId}.tar.gz`;
}

export interface ProcPaths {
  dir: string;
  procYaml: string;
  settingsYaml: string;
  envFile: string;
  runScript: string;
  supervisorConf: string;
  stdoutLog: string;
}

/** Every path of one proc under an (expanded) root. */
export function procPaths(root: string, name: string): ProcPaths {
  if (!PROGRAM_RE.test(name)) throw new UnsafeLayoutError(`unsafe proc name ${JSON.stringify(name)}`);
  const r = safePath(root, "root");
  const dir = `${r}/procs/${name}`;
  return {
    dir,
    procYaml: `${dir}/proc.yaml`,
    settingsYaml: `${dir}/settings.yaml`,
    envFile: `${dir}/.raptor/env`,
    runScript: `${dir}/.raptor/run.sh`,
    supervisorConf: `${r}/supervisor/${name}.conf`,
    stdoutLog: `${r}/logs/${name}.log`,
  };
}

/**
 * The environment a proc (and its uptests) runs with. Raptor's own keys win over config:
 * HOST, PORT (listening proc types), APP_SETTINGS_YAML, and, when `o.proc` is given,
 * RAPTOR_APP, RAPTOR_ENV, RAPTOR_RELEASE (`v3`), RAPTOR_PROC_TYPE (`web`) and RAPTOR_PROC
 * (the proc's name, `hello-local-v3-web-5000`), so an app can say what it runs.
 */
export function procEnv(o: {
  hostName: string;
  port?: number;
  settingsYaml: string;
  config: Record<string, string>;
  proc?: { app: string; env: string; release: number; procType: string; name: string };
}): Record<string, string> {
  const env: Record<string, string> = { ...o.config, HOST: o.hostName, APP_SETTINGS_YAML: o.settingsYaml };
  if (o.proc) {
    env.RAPTOR_APP = o.proc.app;
    env.RAPTOR_ENV = o.proc.env;
    env.RAPTOR_RELEASE = `v${o.proc.release}`;
    env.RAPTOR_PROC_TYPE = o.proc.procType;
    env.RAPTOR_PROC = o.proc.name;
  }
  if (o.port !== undefined) env.PORT = String(o.port);
  return env;
}

export interface ProcYamlInput {
  port?: number;
  host: string;
  user?: string;
  group?: string;
  env: Record<string, string>;
  settings: Record<string, unknown>;
  cmd: string;
  buildUrl: string;
  buildMd5: string;
  /** Velociraptor's `proc_name`: the proc type (`web`), not the supervisor program name. */
  procType: string;
}

/** Velociraptor's runner file, so its tools (and people who know them) can read our procs. */
export function renderProcYaml(p: ProcYamlInput): string {
  const doc: Record<string, unknown> = {};
  if (p.port !== undefined) doc.port = p.port;
  doc.host = p.host;
  if (p.user !== undefined) doc.user = p.user;
  if (p.group !== undefined) doc.group = p.group;
  doc.env = p.env;
  doc.settings = p.settings;
  doc.cmd = p.cmd;
  doc.build_url = p.buildUrl;
  doc.build_md5 = p.buildMd5;
  doc.proc_name = p.procType;
  return dump(doc, { noRefs: true });
}

export function renderSettingsYaml(settings: Record<string, unknown>): string {
  return Object.keys(settings).length === 0 ? "{}\n" : dump(settings, { noRefs: true });
}

/**
 * The env file run.sh sources: one `export KEY='value'` per line, values single-quoted for sh, so
 * any value (newlines included) arrives byte for byte and nothing in it is ever evaluated.
 */
export function renderEnvFile(env: Record<string, string>): string {
  const lines = Object.entries(env).map(([k, v]) => {
    checkEnvKey(k);
    if (v.includes("\0")) throw new UnsafeLayoutError(`env ${k}: value contains a NUL byte`);
    return `export ${k}=${shellQuote(v)}`;
  });
  return lines.map((l) => `${l}\n`).join("");
}

/**
 * The base every proc, uptest and release hook starts from, before its env file: a PATH of the
 * system's directories and a locale every Debian has. Nothing is inherited from whoever starts the
 * command (supervisord, sshd, Raptor's worker): their environments hold operators' secrets
 * (RAPTOR_SECRET_KEY, supervisord's password, other apps' `${...}` values). Config may override both.
 */
export const PROC_BASE_ENV: Readonly<Record<string, string>> = { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" };

/**
 * The constant script of withEnvFile and run.sh, run under `env -i`: sets USER, LOGNAME and HOME
 * of the user it runs as (the proc's, from the passwd database), sources the env file $1 (config
 * and Raptor's keys, which win), then execs the rest of its arguments.
 */
export const ENV_FILE_LAUNCHER = 'USER=$(id -un) || exit; HOME=$(getent passwd "$USER" | cut -d: -f6); export USER LOGNAME="$USER" HOME="${HOME:-/}"; . "$1"; shift; exec "$@"';

/**
 * argv that runs `argv` with exactly PROC_BASE_ENV, the user's HOME/USER/LOGNAME and the proc's
 * env file (0600, on the host): `env -i` drops the caller's environment, and config values
 * (secrets) never appear on a command line (`ps` shows argv to every user). The script is a
 * constant: the file and the command travel as its arguments, never inside it.
 */
export function withEnvFile(envFile: string, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new UnsafeLayoutError("command is empty");
  const base = Object.entries(PROC_BASE_ENV).map(([k, v]) => `${k}=${v}`);
  return ["/usr/bin/env", "-i", ...base, "sh", "-c", ENV_FILE_LAUNCHER, "sh", envFile, ...argv];
}

/**
 * The launcher supervisord runs. The Procfile line is the app author's shell command by
 * definition, so it goes to `/bin/sh -c` as one quoted word; config reaches it only as env values.
 * It runs through withEnvFile, so supervisord's own environment never reaches the proc.
 */
export function renderRunScript(o: { dir: string; envFile: string; cmd: string }): string {
  return [
    "#!/bin/sh",
    "# Written by Raptor. Runs the Procfile command with the release's environment, and nothing of supervisord's.",
    "set -e",
    `cd ${shellQuote(o.dir)}`,
    `exec ${shellJoin(withEnvFile(o.envFile, ["/bin/sh", "-c", o.cmd]))}`,
    "",
  ].join("\n");
}

export interface SupervisorProgramInput {
  name: string;
  /** argv; supervisord splits `command=` with shlex, which reads sh single quotes the same way. */
  command: readonly string[];
  directory: string;
  stdoutLog: string;
  /** Extra environment for the program. Values must survive supervisor's lossy parser (see envValue). */
  env?: Record<string, string>;
  user?: string;
  /** Default 10. */
  stopWaitSecs?: number;
  /**
   * supervisord's `startsecs`: how long the program must stay up after it starts to be RUNNING
   * (0: RUNNING at once). Whole seconds, default 1 (supervisord's own default).
   */
  startSecs?: number;
}

/** One `[program:<name>]` section, included from `<root>/supervisor/*.conf`. */
export function renderSupervisorProgram(p: SupervisorProgramInput): string {
  if (!PROGRAM_RE.test(p.name)) throw new UnsafeLayoutError(`unsafe program name ${JSON.stringify(p.name)}`);
  if (p.command.length === 0) throw new UnsafeLayoutError("program command is empty");
  const lines = [
    `[program:${p.name}]`,
    `command=${iniValue(shellJoin(p.command), "command")}`,
    `directory=${safePath(p.directory, "directory")}`,
  ];
  const env = Object.entries(p.env ?? {});
  if (env.length > 0) lines.push(`environment=${env.map(([k, v]) => `${checkEnvKey(k)}="${envValue(k, v)}"`).join(",")}`);
  if (p.user !== undefined) {
    if (!UNIX_NAME.test(p.user)) throw new UnsafeLayoutError(`unsafe user ${JSON.stringify(p.user)}`);
    lines.push(`user=${p.user}`);
  }
  lines.push(
    "autostart=false",
    "autorestart=true",
    `startsecs=${startSecs(p.startSecs)}`,
    "startretries=3",
    "stopasgroup=true",
    "killasgroup=true",
    `stopwaitsecs=${p.stopWaitSecs ?? 10}`,
    "redirect_stderr=true",
    `stdout_logfile=${safePath(p.stdoutLog, "stdout log")}`,
    "stdout_logfile_maxbytes=10MB",
    "stdout_logfile_backups=2",
  );
  return `${lines.join("\n")}\n`;
}

function startSecs(n: number | undefined): number {
  if (n === undefined) return 1;
  if (!Number.isInteger(n) || n < 0) throw new UnsafeLayoutError(`startsecs must be a whole number of seconds, got ${n}`);
  return n;
}

function checkEnvKey(k: string): string {
  if (!ENV_KEY.test(k)) throw new UnsafeLayoutError(`invalid environment variable name ${JSON.stringify(k)}`);
  return k;
}

function safePath(path: string, what: string): string {
  if (!SAFE_PATH_RE.test(path) || path.split("/").includes("..")) {
    throw new UnsafeLayoutError(`${what} ${JSON.stringify(path)} must be an absolute path of [A-Za-z0-9_./@+,:=-]`);
  }
  return path;
}

/**
 * Makes a value safe for one ini line as supervisor reads it: a line break would start a new key,
 * `;`/`#` after whitespace starts a comment, and `%` is Python string expansion (so `%%`).
 * Refused, not escaped, when no escape exists; supervisor has none for line breaks or `%(here)s`.
 */
function iniValue(value: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\x85\u2028\u2029]/.test(value)) throw new UnsafeLayoutError(`${what}: control characters (line breaks, tabs) cannot go into a supervisor config`);
  if (/\s[;#]/.test(value)) throw new UnsafeLayoutError(`${what}: ';' or '#' after a space would start an ini comment`);
  const escaped = value.replace(/%/g, "%%");
  // supervisor replaces the literal text `%(here)s` in every value before expanding `%%`.
  if (escaped.includes("%(here)s")) throw new UnsafeLayoutError(`${what}: '%(here)s' cannot be written into a supervisor config`);
  return escaped;
}

/**
 * supervisor parses `environment=` with a non-POSIX shlex: no escapes inside quotes, and every
 * leading/trailing quote of the value is stripped. So `"` cannot appear, and `'` cannot open or
 * close a value; those are refused rather than silently changed. (run.sh's env file has no limits.)
 */
function envValue(key: string, value: string): string {
  if (value.includes('"')) throw new UnsafeLayoutError(`env ${key}: '"' cannot be written into supervisor's environment=`);
  if (value.startsWith("'") || value.endsWith("'")) throw new UnsafeLayoutError(`env ${key}: a value cannot start or end with "'" in supervisor's environment=`);
  return iniValue(value, `env ${key}`);
}
