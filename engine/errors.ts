import { isErrorCode, retryCanHelp, type ErrorCode } from "../lib/error-codes.ts";

/**
 * Engine errors carry a code from the closed set in lib/error-codes.ts; `explain` turns a code
 * into the sentence the channel reads. A job failure that another attempt cannot fix
 * (`retryCanHelp`) is thrown to BullMQ as UnrecoverableError (queues.ts encodeJobError, worker.ts), so BullMQ
 * spends no attempts on it.
 */

export class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly opts: { retryable?: boolean; output?: string; host?: string; confirm?: string; detail?: string } = {},
  ) {
    super(message);
    this.name = "EngineError";
  }
  get retryable(): boolean {
    return this.opts.retryable ?? false;
  }
}

const hints: Partial<Record<ErrorCode, string>> = {
  frozen: "Deploys are frozen now; `deploy!` skips the freeze window if this cannot wait.",
  policy_denied: "Ask someone on the access list.",
  ref_not_found: "Check the branch, tag or sha and try again.",
  repo_unreadable: "Check the app's `repo:` in the playbook, and that this worker can reach it.",
  build_failed: "The build log tail is above; fix the build and deploy again.",
  build_missing: "Workers on several machines need one build store: RAPTOR_BUILD_STORE=s3://bucket/prefix, or a directory they all mount.",
  host_unreachable: "Check that the host is up and that sshd accepts Raptor's key.",
  uptest_failed: "The new procs were removed and routing was left as it was.",
  proc_failed: "The new procs were removed and routing was left as it was.",
  hook_failed: "The new procs were removed and routing was left as it was.",
  no_ports: "Free some ports (scale something down) or widen the squad's port range.",
};

/** The sentence for the channel: the error's own message plus what to do next. */
export function explain(code: ErrorCode, message: string): string {
  const hint = hints[code];
  return hint ? `${message} ${hint}` : message;
}

/** Normalizes anything thrown by a step into an EngineError with a code. */
export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as { code?: unknown; message?: unknown; output?: unknown; host?: unknown; retryable?: unknown; detail?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(err);
  const code = isErrorCode(e?.code) ? e.code : undefined;
  if (code) {
    return new EngineError(code, message, {
      output: typeof e.output === "string" ? e.output : undefined,
      host: typeof e.host === "string" ? e.host : undefined,
      detail: typeof e.detail === "string" ? e.detail : undefined,
      // A git fetch that timed out is worth another attempt; the error says so itself.
      retryable: e.retryable === true,
    });
  }
  // Network blips to Redis/Postgres are worth a retry; everything else is a bug to report.
  const transient = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|Connection terminated/i.test(message);
  return new EngineError("internal", message, { retryable: transient });
}

/** Whether another attempt of the same job can succeed: the error's own `retryable`, else its code's rule. */
export function canRetry(err: EngineError): boolean {
  return err.retryable || retryCanHelp[err.code];
}

