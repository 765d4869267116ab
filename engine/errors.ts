/**
 * Engine errors carry a string code; `explain` turns a code into the sentence the channel reads.
 * Errors that retrying cannot fix are marked `retryable: false` and become BullMQ UnrecoverableError.
 */
export const errorCodes = [
  "lock_held",
  "frozen",
  "policy_denied",
  "not_found",
  "ref_not_found",
  "build_failed",
  "build_missing",
  "host_unreachable",
  "supervisor_failed",
  "proc_failed",
  "uptest_failed",
  "hook_failed",
  "balancer_failed",
  "no_hosts",
  "no_ports",
  "invalid",
  /** Refused until the person confirms (`opts.confirm` is the command that does). */
  "needs_confirmation",
  "cancelled",
  "internal",
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly opts: { retryable?: boolean; output?: string; host?: string; confirm?: string } = {},
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
  build_failed: "The build log tail is above; fix the build and deploy again.",
  build_missing: "Workers on several machines must share RAPTOR_DATA (builds are stored under it).",
  host_unreachable: "Check that the host is up and that sshd accepts Raptor's key.",
  uptest_failed: "The new procs were removed and routing was left as it was.",
  proc_failed: "The new procs were removed and routing was left as it was.",
  hook_failed: "The new procs were removed and routing was left as it was.",
  no_ports: "Free some ports (scale something down) or widen the squad's port range.",
};

/** The sentence for the channel: the error's own message plus what to do next. */
export function explain(code: string, message: string): string {
  const hint = hints[code as ErrorCode];
  return hint ? `${message} ${hint}` : message;
}

/** Normalizes anything thrown by a step into an EngineError with a code. */
export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as { code?: unknown; message?: unknown; output?: unknown; host?: unknown; retryable?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(err);
  const code = typeof e?.code === "string" && (errorCodes as readonly string[]).includes(e.code) ? (e.code as ErrorCode) : undefined;
  if (code) {
    return new EngineError(code, message, {
      output: typeof e.output === "string" ? e.output : undefined,
      host: typeof e.host === "string" ? e.host : undefined,
      // A git fetch that timed out is worth another attempt; the error says so itself.
      retryable: e.retryable === true,
    });
  }
  // Network blips to Redis/Postgres are worth a retry; everything else is a bug to report.
  const transient = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|Connection terminated/i.test(message);
  return new EngineError("internal", message, { retryable: transient });
}
