/**
 * Raptor's error codes: one closed set, shared by every layer (runners, balancers, builds, the
 * engine, the bot) and carried across Redis by job failures. A code outside this list is a bug;
 * `toEngineError` reports anything it does not know as `internal`.
 */
export const errorCodes = [
  "lock_held",
  "frozen",
  "policy_denied",
  /** A deploy of a commit that has not served in the environment's `promote_from` environment. */
  "not_promoted",
  "not_found",
  "ref_not_found",
  /** git could not clone or fetch the app's repo (a wrong `repo:`, a path that is not there, no access). */
  "repo_unreadable",
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
  /** The bot is answering as many commands as it takes at once (bot/admission.ts); nothing was started. */
  "busy",
  "internal",
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && (errorCodes as readonly string[]).includes(code);
}

/**
 * Whether another attempt of the same job can succeed, by code: refusals, bad input and a failed
 * build, uptest or hook fail the same way again (BullMQ gets an UnrecoverableError); a host, a
 * supervisord or a balancer that did not answer, and `internal` (a dropped connection, say), may
 * answer next time. An error's own `retryable: true` (a git fetch that timed out, a repo host that did not answer) wins.
 */
export const retryCanHelp: Readonly<Record<ErrorCode, boolean>> = {
  lock_held: false,
  frozen: false,
  policy_denied: false,
  not_promoted: false,
  not_found: false,
  ref_not_found: false,
  repo_unreadable: false,
  build_failed: false,
  build_missing: false,
  host_unreachable: true,
  supervisor_failed: true,
  proc_failed: true,
  uptest_failed: false,
  hook_failed: false,
  balancer_failed: true,
  no_hosts: false,
  no_ports: false,
  invalid: false,
  needs_confirmation: false,
  cancelled: false,
  busy: true,
  internal: true,
};
