/**
 * What the channel reads when git cannot clone or fetch an app's repo (red-team L3: a bad `repo:`
 * failed as `internal` and printed git's whole argv, with the mirror's path under RAPTOR_DATA).
 * Pure: the caller runs git and keeps the argv for raptor.log only.
 */

/** One failed git run, as far as the message needs it. */
export interface GitFailure {
  /** The repo as the playbook names it (relative paths made absolute), credentials already removed. */
  repo: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
  /** Raptor's own paths (the git cache, the mirror, its temporary clone): replaced by "Raptor's git cache" wherever git quotes them. */
  hidden: readonly string[];
  /** Values never shown (the URL's user and password): replaced by [REDACTED]. */
  secrets: readonly string[];
}

/** The longest part of git's words a message keeps. */
const SAID_LIMIT = 300;

/**
 * "cannot read the repo <repo>: <git's first line>": git's first non-empty stderr line without its
 * `fatal:`/`error:` prefix, Raptor's paths and the URL's credentials taken out, cut to 300
 * characters. A timeout or a silent failure is said as such.
 */
export function repoUnreadableText(f: GitFailure): string {
  const why = f.timedOut ? `git gave no answer within ${Math.round(f.durationMs / 1000)} s` : firstLine(f.stderr) || "git failed without saying why";
  return `cannot read the repo ${clean(f.repo, f)}: ${clean(why, f)}`;
}

/**
 * Whether another attempt may read the repo: a timeout or a network or server trouble (the host
 * did not answer, the connection dropped), not a repo that is not there or refused us.
 */
export function gitFailureIsTransient(f: Pick<GitFailure, "stderr" | "timedOut">): boolean {
  if (f.timedOut) return true;
  return /could not resolve host|connection (timed out|refused|reset)|failed to connect|couldn't connect to server|operation timed out|early EOF|RPC failed|the remote end hung up unexpectedly|HTTP 5\d\d|returned error: 5\d\d|temporary failure|network is unreachable/i.test(f.stderr);
}

function firstLine(stderr: string): string {
  const line = stderr.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "";
  return line.replace(/^(fatal|error):\s*/i, "");
}

function clean(text: string, f: GitFailure): string {
  let out = text;
  for (const s of f.secrets) if (s.length > 0) out = out.split(s).join("[REDACTED]");
  // Longest first, each with whatever git appended to it (`.tmp-1234abcd`, `/objects`).
  for (const p of [...f.hidden].filter((h) => h.length > 1).sort((a, b) => b.length - a.length)) {
    out = out.replace(new RegExp(`${escapeRegExp(p)}[^\\s'"]*`, "g"), "Raptor's git cache");
  }
  // Control characters (a hostile server's ANSI escapes) are shown as text.
  out = out.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return out.length > SAID_LIMIT ? `${out.slice(0, SAID_LIMIT)}…` : out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
