/**
 * Raptor's own words: deployment, step, proc, build and approval statuses, deployment kinds, step
 * names, event names and their parts, error codes and chat verbs. They stand in `deploys`,
 * `status`, threads and raptor.log's structured fields (`"event":"deployment.succeeded"`), so a
 * secret equal to one of them would rewrite what everyone reads about every app (red team 2 N4:
 * `config secret hello local NOTE2=succeeded`). Such a value is not a secret (`plainWordProblem`).
 * test/unit/secrets.test.ts checks this list holds every value of db/schema/enums.ts,
 * engine/event-types.ts stepNames and lib/error-codes.ts, which lib (pure) does not import. Pure.
 */
export const RAPTOR_WORDS: ReadonlySet<string> = new Set([
  // statuses (deployments, steps, builds, procs, approvals, hosts, beat runs) and audit outcomes
  "queued", "awaiting_approval", "running", "succeeded", "failed", "cancelled", "rejected", "pending", "skipped",
  "starting", "routed", "draining", "stopped", "approved", "expired", "unknown", "up", "down", "done", "idle",
  "refused", "requested", "serving", "served", "finished", "started", "unchanged", "ok", "warn", "fail", "skip",
  // deployment kinds and chat verbs
  "deploy", "rollback", "scale", "restart", "config", "repair", "promote", "approve", "reject", "cancel", "lock",
  "unlock", "freeze", "unfreeze", "status", "deploys", "releases", "logs", "plan", "who", "deployed", "help",
  "apps", "hosts", "check", "set", "secret", "unset",
  // step names
  "resolve", "build", "release", "mend", "start", "uptest", "release_hook", "route", "teardown",
  // event names' parts
  "deployment", "step", "beat", "changes", "progress", "log", "report",
  // error codes
  "lock_held", "frozen", "policy_denied", "not_promoted", "not_found", "ref_not_found", "repo_unreadable",
  "build_failed", "build_missing", "host_unreachable", "supervisor_failed", "proc_failed", "uptest_failed",
  "hook_failed", "balancer_failed", "no_hosts", "no_ports", "invalid", "needs_confirmation", "busy", "internal",
  "parse_error", "internal_error", "answer", "done",
]);

/**
 * Whether `value` is an ordinary word rather than a secret: letters only in one case (or one
 * capital then lower case: `succeeded`, `FAILED`, `Serving`), or Raptor's own words joined by
 * `.`, `_` or `-` (`deployment.succeeded`, `build_failed`), case-insensitively.
 */
export function isPlainWord(value: string): boolean {
  if (/^(\p{Ll}+|\p{Lu}+|\p{Lu}\p{Ll}+)$/u.test(value)) return true;
  const ours = (w: string) => RAPTOR_WORDS.has(w) || w.split(/[_-]/).every((p) => RAPTOR_WORDS.has(p));
  return value.toLowerCase().split(".").every(ours);
}
