/**
 * The shapes of names, one pattern per kind, used by every layer (chat grammar, playbooks, the
 * Procfile parser, the proc layout, uptests, the shell edge). DESIGN.md "Commands" is the source:
 * identifiers match `^[a-z0-9][a-z0-9_-]{0,62}$`; environment names may not contain `-`, because
 * it separates the parts of proc names. Pure; no layer keeps a copy of its own.
 */

/** App, proc type, squad and balancer names. */
export const IDENT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Proc types (`web`, `web-api`): identifiers, so a type the Procfile accepts runs end to end. */
export const PROC_TYPE = IDENT;

/** Environment names: identifiers without `-` (proc names are `<app>-<env>-v<N>-<type>-<slot>`). */
export const ENV_NAME = /^[a-z0-9][a-z0-9_]{0,62}$/;

/** A full commit id: SHA-1 (40 hex digits) or, in a SHA-256 repository, 64. Short shas are refs to resolve. */
export const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Balancer pool names (an environment's `pool:`): they become identifiers in the balancer's config.
 * A backend whose config language is stricter (VCL) checks its own pattern on top.
 */
export const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** What POOL_NAME allows, for messages. */
export const POOL_NAME_RULE = 'letters, digits, ".", "-" and "_"';

/** Unix user and group names (procs' users, `useradd`'s portable rule): supervisord's `user=` takes nothing else. */
export const UNIX_NAME = /^[a-z_][a-z0-9_-]*$/;

/** Environment variable names (config keys, `env K=V`, env files), as POSIX shells accept them. */
export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Environment variables Raptor sets itself for every proc, over any config of the same name
 * (runners/proc-layout.ts `procEnv`): a `config set` or playbook `env` of one of these would be
 * silently overridden, so it is refused. HOST and PORT are where the proc listens.
 */
export const RESERVED_ENV_KEYS = ["HOST", "PORT", "APP_SETTINGS_YAML", "RAPTOR_APP", "RAPTOR_ENV", "RAPTOR_RELEASE", "RAPTOR_PROC_TYPE", "RAPTOR_PROC"] as const;

/**
 * Why `key` may not be configured (one of RESERVED_ENV_KEYS), as a clause to follow the key
 * ("is set by Raptor ..."), or undefined when it may.
 */
export function reservedEnvKeyProblem(key: string): string | undefined {
  if (!(RESERVED_ENV_KEYS as readonly string[]).includes(key)) return undefined;
  return `is set by Raptor for every proc, over any config of that name; pick another name (Raptor's own: ${RESERVED_ENV_KEYS.join(", ")})`;
}

/**
 * Ref names follow git's own rule (`git check-ref-format --branch`, see git-check-ref-format(1)),
 * plus a length limit: `v1.0.0+build.5`, `renovate/@babel/core-7.x` and `it's-done` are refs,
 * exactly as git accepts them. Refs only ever reach git as argv after `--end-of-options`, never a
 * shell, so characters a shell would treat specially are no danger here.
 */

/** Longest ref accepted (characters). */
export const REF_MAX_LENGTH = 200;

/** One line saying what a ref may be, for error messages. */
export const REF_RULE =
  "Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\".";

/**
 * Why `ref` is not a ref name git accepts, as a clause ("\"+\" is not allowed" style), or
 * undefined when it is one. Checks, in git's order: control characters and space, `~ ^ : ? * [ \`,
 * `..`, `@{`, the lone `@`, a leading `-`, components starting with `.` or ending with `.lock`,
 * empty components (`//`, leading or trailing `/`), a trailing `.`.
 */
export function refProblem(ref: string): string | undefined {
  if (ref.length === 0) return "it is empty";
  if (ref.length > REF_MAX_LENGTH) return `it is ${ref.length} characters long; the limit is ${REF_MAX_LENGTH}`;
  for (const ch of ref) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp === 0x7f) return `it contains a control character (U+${cp.toString(16).toUpperCase().padStart(4, "0")})`;
    if (ch === " ") return "it contains a space";
    if ("~^:?*[\\".includes(ch)) return `"${ch}" is not allowed`;
  }
  if (ref.includes("..")) return 'it contains ".."';
  if (ref.includes("@{")) return 'it contains "@{"';
  if (ref === "@") return 'it is "@" alone';
  if (ref.startsWith("-")) return 'it can\'t start with "-"';
  if (ref.startsWith("/")) return 'it can\'t start with "/"';
  if (ref.endsWith("/")) return 'it can\'t end with "/"';
  if (ref.includes("//")) return 'it contains "//"';
  if (ref.endsWith(".")) return 'it can\'t end with "."';
  for (const part of ref.split("/")) {
    if (part.startsWith(".")) return ref.startsWith(".") ? 'it can\'t start with "."' : 'no part of it may start with "."';
    if (part.endsWith(".lock")) return ref.endsWith(".lock") ? 'it can\'t end with ".lock"' : 'no part of it may end with ".lock"';
  }
  return undefined;
}

/** Whether git accepts `ref` as a branch or tag name (and it fits the length limit). */
export function isRef(ref: string): boolean {
  return refProblem(ref) === undefined;
}
