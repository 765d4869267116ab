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

/** Environment variable names (config keys, `env K=V`, env files), as POSIX shells accept them. */
export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The characters and length of a git ref as Raptor accepts it; `refProblem` adds git's other rules. */
export const REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;
export const REF_MAX_LENGTH = 200;
export const REF_RULE = 'A ref is a branch, tag or commit: letters, digits, ".", "_", "-" and "/".';

/**
 * Why `ref` is not a ref Raptor passes to git, as the end of a sentence (`it contains ".."`), or
 * undefined when it is one. Beyond REF's characters, git's check-ref-format rules: no `..`, `//`
 * or `/.`, no trailing `/`, `.` or `.lock`, no component ending in `.lock`. Never an option (`-x`).
 */
export function refProblem(ref: string): string | undefined {
  if (ref.length > REF_MAX_LENGTH) return `it is ${ref.length} characters long; the limit is ${REF_MAX_LENGTH}`;
  if (!/^[A-Za-z0-9]/.test(ref)) return `it can't start with "${ref[0] ?? ""}"`;
  const bad = /[^A-Za-z0-9._/-]/.exec(ref);
  if (bad) return `"${bad[0]}" is not allowed`;
  for (const seq of ["..", "//", "/."]) {
    if (ref.includes(seq)) return `it contains "${seq}"`;
  }
  for (const end of ["/", ".lock", "."]) {
    if (ref.endsWith(end)) return `it can't end with "${end}"`;
  }
  if (/\.lock\//.test(ref)) return `no part of it may end with ".lock"`;
  return undefined;
}

export function isRef(ref: string): boolean {
  return refProblem(ref) === undefined;
}
