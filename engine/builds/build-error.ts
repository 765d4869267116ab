/**
 * Errors of the build stage. Codes are a subset of the engine's error codes (engine/errors.ts), so
 * the engine's normalizer keeps them as they are; `output` carries the evidence (a log tail).
 */
import type { ErrorCode } from "../../lib/error-codes.ts";

export type BuildErrorCode = Extract<
  ErrorCode,
  /** The ref is not a branch, tag or sha of the repo (the message lists some that exist). */
  | "ref_not_found"
  /** git could not clone or fetch the repo; the message says what git said, the argv is in `detail`. */
  | "repo_unreadable"
  /** Detection, compile, release or packaging failed; the message ends with the log tail. */
  | "build_failed"
  /** Input refused before anything ran: a ref starting with `-`, an unknown buildpack name. */
  | "invalid"
  /** git or tar failed for reasons outside the app (network, disk): worth a retry. */
  | "internal"
>;

export class BuildError extends Error {
  constructor(
    readonly code: BuildErrorCode,
    message: string,
    readonly opts: { retryable?: boolean; output?: string; cause?: unknown; detail?: string } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "BuildError";
  }
  get retryable(): boolean {
    return this.opts.retryable ?? false;
  }
  /** Evidence for raptor.log only, never the thread: the full argv with Raptor's own paths. */
  get detail(): string | undefined {
    return this.opts.detail;
  }
  /** Evidence for the channel (already free of secrets: builds never see release config). */
  get output(): string | undefined {
    return this.opts.output;
  }
}

/** The last `n` lines of a log, for error messages. */
export function tailLines(lines: readonly string[], n = 40): string[] {
  return lines.slice(Math.max(0, lines.length - n));
}
