import { withoutVerbatimMarks } from "../lib/verbatim.ts";
import type { EngineEvent } from "./event-types.ts";

/** One raptor.log line: a pino level, its fields and its message. */
export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  fields: Record<string, unknown>;
  msg: string;
}

/**
 * What raptor.log records of an engine event (issue 11 item 13): the deployment's request (who,
 * what, from where), its start and end, every step's start and end with its duration, and every
 * failure with its reason. Pure. Step logs and progress lines are the thread's business, not the
 * log's: they may be thousands of build lines. Free text is redacted twice over: the event was
 * redacted when emitted, and the logger passes every field through the redactor again.
 * A failure's reason is written without its verbatim marks (lib/verbatim.ts).
 * Returns undefined for events the log leaves out.
 */
export function logLineOf(e: EngineEvent): LogLine | undefined {
  const base = { deploymentId: e.deploymentId, event: e.type };
  switch (e.type) {
    case "deployment.queued":
      return {
        level: "info",
        fields: { ...base, kind: e.kind, app: e.app, env: e.env, requestedBy: e.requestedBy, origin: e.origin, summary: e.summary, steps: e.steps, behind: e.behind },
        msg: `${e.kind} of ${e.app} ${e.env} queued by ${e.requestedBy}`,
      };
    case "deployment.awaiting_approval":
      return { level: "info", fields: { ...base, approvers: e.approvers, expiresAt: e.expiresAt }, msg: "waiting for approval" };
    case "deployment.approved":
      return { level: "info", fields: { ...base, by: e.by }, msg: `approved by ${e.by}` };
    case "deployment.rejected":
      return { level: "info", fields: { ...base, by: e.by, reason: e.reason }, msg: `rejected by ${e.by}` };
    case "deployment.started":
      return { level: "info", fields: base, msg: "deployment started" };
    case "deployment.succeeded":
      return {
        level: "info",
        fields: { ...base, release: e.release, previousRelease: e.previousRelease, commit: e.commit, durationMs: e.durationMs, unchanged: e.unchanged, procs: e.hosts.reduce((n, h) => n + h.procs.length, 0) },
        msg: e.release === undefined ? "deployment succeeded" : `deployment succeeded: v${e.release}`,
      };
    case "deployment.failed":
      return { level: "error", fields: { ...base, code: e.code, step: e.step, reason: withoutVerbatimMarks(e.message), durationMs: e.durationMs }, msg: `deployment failed${e.step ? ` at ${e.step}` : ""}: ${e.code}` };
    case "deployment.cancelled":
      return { level: "info", fields: { ...base, by: e.by, durationMs: e.durationMs }, msg: "deployment cancelled" };
    case "step.started":
      return { level: "info", fields: { ...base, step: e.step }, msg: `step ${e.step} started` };
    case "step.finished":
      return { level: "info", fields: { ...base, step: e.step, durationMs: e.durationMs, summary: e.summary }, msg: `step ${e.step} finished` };
    case "step.failed":
      return { level: "warn", fields: { ...base, step: e.step, durationMs: e.durationMs, reason: withoutVerbatimMarks(e.message) }, msg: `step ${e.step} failed` };
    case "step.skipped":
      return { level: "info", fields: { ...base, step: e.step, reason: e.reason }, msg: `step ${e.step} skipped` };
    case "deployment.changes":
      // Release numbers only: the config diff holds values, the commit list the thread shows.
      return { level: "info", fields: { ...base, fromRelease: e.fromRelease, toRelease: e.toRelease }, msg: `changes from v${e.fromRelease ?? "-"} to v${e.toRelease}` };
    case "step.progress":
    case "step.log":
    case "beat.report":
      return undefined;
    default: {
      const never: never = e;
      return never;
    }
  }
}
