import type { ErrorCode } from "../lib/error-codes.ts";
import { ENV_KEY } from "../lib/names.ts";

/**
 * The only place an argv becomes a shell string. Everything that runs a command on a host builds an
 * argv array; the SSH edge turns it into one POSIX `sh` command line here, and nowhere else.
 */

/** Characters that never need quoting in POSIX sh (no globbing, expansion, or word splitting). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;


/**
 * Words the shell treats specially in command position: reserved words (POSIX and bash) would be
 * parsed as syntax, and `NAME=value` would be taken as a variable assignment instead of a command.
 */
const RESERVED = new Set([
  "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then",
  "until", "while", "[[", "]]", "function", "select", "time", "coproc",
]);
const ASSIGNMENT = new RegExp(`${ENV_KEY.source.slice(0, -1)}=`);

function wrap(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Quotes one argument so that `sh` reads it back byte for byte. Plain safe words stay bare;
 * anything else (including the empty string) is wrapped in single quotes, each `'` as `'\''`.
 */
export function shellQuote(arg: string): string {
  // A C string (and so an argv entry) cannot hold NUL; fail loudly rather than truncate.
  if (arg.includes("\0")) throw new Error("shellQuote: argument contains a NUL byte");
  if (arg.length > 0 && SAFE_WORD.test(arg)) return arg;
  return wrap(arg);
}

/**
 * Quotes each argument and joins them with single spaces. The first word is the command, so it is
 * also quoted when bare it would read as a reserved word or an assignment (`if`, `A=b`).
 */
export function shellJoin(argv: readonly string[]): string {
  return argv
    .map((arg, i) => {
      const quoted = shellQuote(arg);
      return i === 0 && (RESERVED.has(arg) || ASSIGNMENT.test(arg)) ? wrap(arg) : quoted;
    })
    .join(" ");
}

export interface RemoteCommandOptions {
  /** Extra environment, passed through `env K=V ...`; keys must match `^[A-Za-z_][A-Za-z0-9_]*$`. */
  env?: Record<string, string>;
  /** Working directory; the command only runs if `cd` succeeds. */
  cwd?: string;
}

/** Thrown when an env key could not be passed safely; it is a programming or playbook error. */
export class InvalidEnvKeyError extends Error {
  readonly code = "invalid" satisfies ErrorCode;
  constructor(readonly key: string) {
    super(`invalid environment variable name ${JSON.stringify(key)}: must match ${ENV_KEY.source}`);
    this.name = "InvalidEnvKeyError";
  }
}

/**
 * Builds the command line a remote shell runs: `cd '<cwd>' && env K=V ... argv`.
 * Variables go through `env` (only when there are any) rather than as shell assignment prefixes,
 * so the shell never interprets a name or value. env stops parsing options at the first K=V, so a
 * `-x` argv[0] after it is run as a command, not read as an env option.
 */
export function remoteCommand(argv: readonly string[], opts: RemoteCommandOptions = {}): string {
  if (argv.length === 0) throw new Error("remoteCommand: empty argv");
  const parts: string[] = [];
  const envEntries = Object.entries(opts.env ?? {});
  for (const [key] of envEntries) {
    if (!ENV_KEY.test(key)) throw new InvalidEnvKeyError(key);
  }
  // env would read an argv[0] containing `=` as one more assignment instead of the command.
  if (envEntries.length > 0 && argv[0]!.includes("=")) {
    throw new Error("remoteCommand: with env, the command name cannot contain '='");
  }
  // No `--`: env stops reading options at the first K=V, and after `--` GNU env would run `--`.
  const command =
    envEntries.length > 0
      ? shellJoin(["env", ...envEntries.map(([k, v]) => `${k}=${v}`), ...argv])
      : shellJoin(argv);
  if (opts.cwd !== undefined) {
    if (opts.cwd === "") throw new Error("remoteCommand: empty cwd");
    // A leading dash would be read by cd as an option; `./-x` names the same directory.
    const dir = opts.cwd.startsWith("-") ? `./${opts.cwd}` : opts.cwd;
    parts.push(`cd ${shellQuote(dir)}`);
  }
  parts.push(command);
  return parts.join(" && ");
}
