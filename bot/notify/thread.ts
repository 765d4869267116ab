import type { ErrorCode } from "../../lib/error-codes.ts";
import { finalDeploymentStatuses, type DeploymentKind, type DeploymentStatus } from "../../db/schema/enums.ts";
import type { EngineEvent, HostProcs, RevertTarget, StepName } from "../../engine/event-types.ts";
import type { CommitRange, ConfigDiff } from "../../engine/changes/types.ts";

/**
 * A deployment's thread as people see it (Slack head message + replies, or terminal lines), folded
 * from engine events by the pure reducer `reduceThread`. Stored as JSON in Redis by the consumer,
 * so everything here is plain data.
 */

export type ThreadStepStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";

export interface ThreadStep {
  name: StepName;
  status: ThreadStepStatus;
  durationMs?: number;
  /** step.finished summary ("reused build 3f2a1c"), step.failed message or step.skipped reason. */
  note?: string;
  /** The latest step.progress message while running ("3/6 procs up"). */
  progress?: string;
}

export interface ThreadApproval {
  /** Access-list entries that may approve ("@leads", "U123", emails). */
  approvers: string[];
  expiresAt: string;
  decision?: "approved" | "rejected";
  by?: string;
  reason?: string;
}

export interface ThreadError {
  step?: StepName;
  /** Engine error code (deployment.failed only). */
  code?: ErrorCode;
  message: string;
  /** Tail of the failing command's output, already masked by the engine. */
  output?: string;
}

export interface ThreadResult {
  release?: number;
  previousRelease?: number;
  hosts: HostProcs[];
  durationMs: number;
  /** Where the environment is reached (the playbook's `url`). */
  url?: string;
  /** Nothing changed: the serving release still serves, no proc started or removed. */
  unchanged?: boolean;
  /** No listening proc is left: nothing serves (the event's `idle`). */
  idle?: { pool?: string; zeroed: string[] };
}

export interface ThreadState {
  deploymentId: string;
  kind: DeploymentKind;
  app: string;
  env: string;
  requestedBy: string;
  /** "terminal", "slack:<channel>" or "slack:<channel>:<thread_ts>"; "" when the queued event was never seen. */
  origin: string;
  /** What the person asked for, e.g. "deploy web production v1.4.2". */
  summary: string;
  /** A promote (a deploy of the build serving this environment): its title says "Promote". */
  promotedFrom?: string;
  status: DeploymentStatus;
  fromRelease?: number;
  toRelease?: number;
  /** Short sha (7 chars) of the deployed commit, once known. */
  commit?: string;
  steps: ThreadStep[];
  /** Deployments of the same app+env ahead of this one when it was queued. */
  behind: string[];
  approval?: ThreadApproval;
  /** Every failure seen, in order (step failures, then the deployment failure if it adds anything). */
  errors: ThreadError[];
  result?: ThreadResult;
  /** Set when the deployment failed: the engine's code and sentence. */
  failure?: { code: ErrorCode; message: string; step?: StepName; durationMs: number };
  cancelledBy?: string;
  /** The release a Rollback button goes back to: the one this deployment replaced. */
  rollbackTarget?: number;
  /** What the Rollback button would revert to (release, commit, age, config difference). */
  revert?: RevertTarget;
  /** What the new release changes against the one it replaces (deployment.changes). */
  changes?: { commits?: CommitRange; commitsError?: string; config: ConfigDiff };
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Total duration reported by the engine at the end. */
  durationMs?: number;
  /** Stream id of the last event folded in. */
  lastEventId: string;
  /** Set for a beat report (a one-message "thread" with no deployment behind it). */
  report?: { job: string; text: string };
}

export function isFinished(state: ThreadState): boolean {
  return (finalDeploymentStatuses as readonly DeploymentStatus[]).includes(state.status);
}

/** A thread for a deployment whose `deployment.queued` was not seen (e.g. a consumer group created late). */
function blankState(event: EngineEvent): ThreadState {
  return {
    deploymentId: event.deploymentId,
    kind: "deploy",
    app: "",
    env: "",
    requestedBy: "",
    origin: "",
    summary: "",
    status: "queued",
    steps: [],
    behind: [],
    errors: [],
    queuedAt: event.at,
    lastEventId: event.id,
  };
}

/** Replace one step (adding it in pipeline position if the plan did not list it). */
function withStep(steps: ThreadStep[], name: StepName, patch: (s: ThreadStep) => ThreadStep): ThreadStep[] {
  if (steps.some((s) => s.name === name)) return steps.map((s) => (s.name === name ? patch(s) : s));
  return [...steps, patch({ name, status: "pending" })];
}

function shortSha(commit: string): string {
  return /^[0-9a-f]{8,}$/i.test(commit) ? commit.slice(0, 7) : commit;
}

/**
 * Folds one engine event into a deployment's thread. Pure: same inputs, same output; the input
 * state is never mutated. Events of other deployments are ignored (state returned as is).
 */
export function reduceThread(state: ThreadState | undefined, event: EngineEvent): ThreadState {
  if (state && state.deploymentId !== event.deploymentId) return state;
  const s: ThreadState = { ...(state ?? blankState(event)), lastEventId: event.id };
  switch (event.type) {
    case "deployment.queued":
      return {
        ...s,
        kind: event.kind,
        app: event.app,
        env: event.env,
        requestedBy: event.requestedBy,
        origin: event.origin,
        summary: event.summary,
        behind: [...event.behind],
        queuedAt: event.at,
        // Steps already seen (out-of-order replay) keep their status.
        steps: event.steps.map((name) => s.steps.find((x) => x.name === name) ?? { name, status: "pending" }),
        ...(event.fromRelease !== undefined ? { fromRelease: event.fromRelease, rollbackTarget: event.fromRelease } : {}),
        ...(event.promotedFrom !== undefined ? { promotedFrom: event.promotedFrom } : {}),
      };
    case "deployment.awaiting_approval":
      return { ...s, status: "awaiting_approval", approval: { approvers: [...event.approvers], expiresAt: event.expiresAt } };
    case "deployment.approved":
      return {
        ...s,
        status: s.status === "awaiting_approval" ? "queued" : s.status,
        approval: { approvers: s.approval?.approvers ?? [], expiresAt: s.approval?.expiresAt ?? event.at, decision: "approved", by: event.by },
      };
    case "deployment.rejected":
      return {
        ...s,
        status: "rejected",
        finishedAt: event.at,
        approval: {
          approvers: s.approval?.approvers ?? [],
          expiresAt: s.approval?.expiresAt ?? event.at,
          decision: "rejected",
          by: event.by,
          ...(event.reason !== undefined ? { reason: event.reason } : {}),
        },
      };
    case "deployment.started":
      return { ...s, status: "running", startedAt: event.at };
    case "deployment.changes":
      return {
        ...s,
        changes: {
          config: event.config,
          ...(event.commits !== undefined ? { commits: event.commits } : {}),
          ...(event.commitsError !== undefined ? { commitsError: event.commitsError } : {}),
        },
      };
    case "deployment.succeeded": {
      const target = event.previousRelease ?? s.fromRelease;
      const { rollbackTarget: _old, ...rest } = s;
      return {
        ...rest,
        status: "succeeded",
        finishedAt: event.at,
        durationMs: event.durationMs,
        result: {
          hosts: event.hosts.map((h) => ({ host: h.host, procs: [...h.procs] })),
          durationMs: event.durationMs,
          ...(event.release !== undefined ? { release: event.release } : {}),
          ...(event.previousRelease !== undefined ? { previousRelease: event.previousRelease } : {}),
          ...(event.url !== undefined ? { url: event.url } : {}),
          ...(event.unchanged ? { unchanged: true } : {}),
          ...(event.idle ? { idle: { ...(event.idle.pool ? { pool: event.idle.pool } : {}), zeroed: [...event.idle.zeroed] } } : {}),
        },
        ...(event.release !== undefined ? { toRelease: event.release } : {}),
        ...(event.previousRelease !== undefined ? { fromRelease: event.previousRelease } : {}),
        ...(event.commit !== undefined ? { commit: shortSha(event.commit) } : {}),
        // Nothing to roll back to when the release did not change (scale, restart).
        ...(target !== undefined && target !== event.release ? { rollbackTarget: target } : {}),
        ...(event.revert !== undefined && event.revert.release === target ? { revert: event.revert } : {}),
      };
    }
    case "deployment.failed": {
      const last = s.errors.at(-1);
      // The step failure usually says it already; only add what is new.
      const repeats = last !== undefined && last.step === event.step && last.message === event.message && (event.output === undefined || event.output === last.output);
      const error: ThreadError = {
        code: event.code,
        message: event.message,
        ...(event.step !== undefined ? { step: event.step } : {}),
        ...(event.output !== undefined ? { output: event.output } : {}),
      };
      return {
        ...s,
        status: "failed",
        finishedAt: event.at,
        durationMs: event.durationMs,
        failure: { code: event.code, message: event.message, durationMs: event.durationMs, ...(event.step !== undefined ? { step: event.step } : {}) },
        errors: repeats ? s.errors : [...s.errors, error],
        steps: event.step === undefined ? s.steps : withStep(s.steps, event.step, (x) => (x.status === "failed" ? x : { ...x, status: "failed", note: x.note ?? event.message })),
      };
    }
    case "deployment.cancelled":
      return {
        ...s,
        status: "cancelled",
        finishedAt: event.at,
        durationMs: event.durationMs,
        cancelledBy: event.by,
        steps: s.steps.map((x) => (x.status === "running" ? { ...x, status: "skipped", note: "cancelled" } : x)),
      };
    case "step.started":
      return {
        ...s,
        status: s.status === "queued" || s.status === "awaiting_approval" ? "running" : s.status,
        steps: withStep(s.steps, event.step, ({ progress: _p, note: _n, durationMs: _d, ...x }) => ({ ...x, status: "running" })),
      };
    case "step.progress":
      return { ...s, steps: withStep(s.steps, event.step, (x) => ({ ...x, progress: event.message })) };
    case "step.log":
      // Logs are delivered as they come (sink/terminal); the thread state does not keep them.
      return s;
    case "step.finished":
      return {
        ...s,
        steps: withStep(s.steps, event.step, ({ progress: _x, ...x }) => ({
          ...x,
          status: "succeeded",
          durationMs: event.durationMs,
          ...(event.summary !== undefined ? { note: event.summary } : {}),
        })),
      };
    case "step.failed":
      return {
        ...s,
        steps: withStep(s.steps, event.step, ({ progress: _x, ...x }) => ({ ...x, status: "failed", durationMs: event.durationMs, note: event.message })),
        errors: [...s.errors, { step: event.step, message: event.message, ...(event.output !== undefined ? { output: event.output } : {}) }],
      };
    case "step.skipped":
      return { ...s, steps: withStep(s.steps, event.step, ({ progress: _x, ...x }) => ({ ...x, status: "skipped", note: event.reason })) };
    case "beat.report":
      return { ...s, app: event.app ?? "", env: event.env ?? "", origin: event.origin, requestedBy: "raptor", summary: event.text, status: "succeeded", finishedAt: event.at, report: { job: event.job, text: event.text } };
    default: {
      const never: never = event;
      void never;
      return s;
    }
  }
}
