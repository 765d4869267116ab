import type { ErrorCode } from "../lib/error-codes.ts";
import { finalDeploymentStatuses, type DeploymentKind } from "../db/schema/enums.ts";
import type { CommitRange, ConfigDiff } from "./changes/types.ts";

/** The pipeline's step names, in pipeline order. plan-steps.ts picks a subset per deployment kind. */
export const stepNames = ["resolve", "build", "release", "mend", "start", "uptest", "release_hook", "route", "teardown", "restart"] as const;
export type StepName = (typeof stepNames)[number];

/** Procs per host, as shown in summaries: [{host: "app1", procs: ["web:5001", "web:5002"]}]. */
export interface HostProcs {
  host: string;
  procs: string[];
}

/**
 * What the engine tells the world. Appended to Postgres (deployment_events) and to the Redis stream
 * `raptor:events`; the bot turns them into threads. Payloads never carry secret values.
 */
export type EngineEventBody =
  | {
      type: "deployment.queued";
      kind: DeploymentKind;
      app: string;
      env: string;
      requestedBy: string;
      origin: string;
      /** What the person asked for, e.g. "deploy hello local main" or "scale web=3". */
      summary: string;
      steps: StepName[];
      /** Deployment ids of the same app+env ahead of this one. */
      behind: string[];
      fromRelease?: number;
      /** A `promote`: the environment whose serving build this deploy ships (its thread says "Promote"). */
      promotedFrom?: string;
    }
  | { type: "deployment.awaiting_approval"; approvers: string[]; expiresAt: string }
  | { type: "deployment.approved"; by: string }
  | { type: "deployment.rejected"; by: string; reason?: string }
  | { type: "deployment.started" }
  /**
   * What the release this deployment cut changes against the one serving before it: the commit
   * range and the config diff (values masked by the secrets rules). Sent once the release is cut;
   * `commitsError` when git could not list the commits.
   */
  | { type: "deployment.changes"; fromRelease?: number; toRelease: number; commits?: CommitRange; commitsError?: string; config: ConfigDiff }
  | {
      type: "deployment.succeeded";
      release?: number;
      previousRelease?: number;
      commit?: string;
      hosts: HostProcs[];
      durationMs: number;
      /** The deployment changed nothing: the release that served still serves, no proc started or removed. */
      unchanged?: boolean;
      /** Where people reach the environment (its playbook `url`), when it routes through a balancer. */
      url?: string;
      /**
       * No proc that listens is left (a scale to 0): nothing serves `url` and the balancer's pool
       * is empty, so no renderer may say "serving" or "reachable". `zeroed`: the proc types the
       * deployment took to 0, for the hint that brings them back.
       */
      idle?: { pool?: string; zeroed: string[] };
      /**
       * What the Rollback button would go back to: the release this one replaced, its commit (short),
       * when it was cut, and the config difference from the new release to it (values masked).
       */
      revert?: RevertTarget;
    }
  | { type: "deployment.failed"; code: ErrorCode; message: string; step?: StepName; output?: string; durationMs: number }
  | { type: "deployment.cancelled"; by: string; durationMs: number }
  | { type: "step.started"; step: StepName }
  | { type: "step.progress"; step: StepName; message: string }
  | { type: "step.log"; step: StepName; title: string; text: string }
  | { type: "step.finished"; step: StepName; durationMs: number; summary?: string }
  | { type: "step.failed"; step: StepName; durationMs: number; message: string; output?: string }
  | { type: "step.skipped"; step: StepName; reason: string }
  /**
   * What a beat job did that people should hear about (a host went down or came back, orphans
   * removed, a lock expired): one message, no thread. Its `deploymentId` is a report id (`r-…`);
   * it goes to the stream only (beat_runs keeps the record), to `origin` like a thread would.
   */
  | { type: "beat.report"; job: string; app?: string; env?: string; origin: string; text: string };

export type EngineEventType = EngineEventBody["type"];

/** The release a rollback of this deployment returns to, as the Rollback confirmation describes it. */
export interface RevertTarget {
  release: number;
  commit?: string;
  /** ISO time the release was cut. */
  createdAt: string;
  config: ConfigDiff;
}

export type EngineEvent = EngineEventBody & {
  /** Redis stream id ("1700000000000-0"); a consumer's position. */
  id: string;
  deploymentId: string;
  at: string;
};

/** The events that end a deployment: one per final status (`deployment.succeeded`, ...). */
export const finalEventTypes: ReadonlySet<EngineEvent["type"]> = new Set(finalDeploymentStatuses.map((s) => `deployment.${s}` as const));
