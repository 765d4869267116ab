import { pgEnum } from "drizzle-orm/pg-core";

/** Shared by pgEnum (the column type) and zod/TS (the value type). */
/** `repair`: the beat's reconcile job putting an environment back to its swarm sizes (see engine/beat/). */
export const deploymentKinds = ["deploy", "rollback", "scale", "restart", "config", "repair"] as const;
export const deploymentStatuses = [
  "queued",
  "awaiting_approval",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "rejected",
] as const;
/** The statuses a deployment never leaves: its line moves on, its thread is finished. */
export const finalDeploymentStatuses = ["succeeded", "failed", "cancelled", "rejected"] as const satisfies readonly (typeof deploymentStatuses)[number][];
/** The statuses of a deployment not ended yet: every status but the final ones. */
export const openDeploymentStatuses = deploymentStatuses.filter((s): s is Exclude<(typeof deploymentStatuses)[number], (typeof finalDeploymentStatuses)[number]> => !(finalDeploymentStatuses as readonly string[]).includes(s));
export const stepStatuses = ["pending", "running", "succeeded", "failed", "skipped"] as const;
export const buildStatuses = ["running", "succeeded", "failed"] as const;
export const procStatuses = ["starting", "running", "routed", "draining", "stopped", "failed"] as const;
export const approvalStatuses = ["pending", "approved", "rejected", "expired"] as const;
/** A host as the beat's hosts job last found it: `unknown` until its first check. */
export const hostStates = ["unknown", "up", "down"] as const;
/** How one beat run ended: `idle` when it found nothing to do (and said nothing in chat). */
export const beatOutcomes = ["running", "done", "idle", "failed"] as const;

export type DeploymentKind = (typeof deploymentKinds)[number];
export type DeploymentStatus = (typeof deploymentStatuses)[number];
export type FinalDeploymentStatus = (typeof finalDeploymentStatuses)[number];
export type StepStatus = (typeof stepStatuses)[number];
export type BuildStatus = (typeof buildStatuses)[number];
export type ProcStatus = (typeof procStatuses)[number];
export type ApprovalStatus = (typeof approvalStatuses)[number];
export type HostState = (typeof hostStates)[number];
export type BeatOutcome = (typeof beatOutcomes)[number];

export const deploymentKindEnum = pgEnum("deployment_kind", deploymentKinds);
export const deploymentStatusEnum = pgEnum("deployment_status", deploymentStatuses);
export const stepStatusEnum = pgEnum("step_status", stepStatuses);
export const buildStatusEnum = pgEnum("build_status", buildStatuses);
export const procStatusEnum = pgEnum("proc_status", procStatuses);
export const approvalStatusEnum = pgEnum("approval_status", approvalStatuses);
export const hostStateEnum = pgEnum("host_state", hostStates);
export const beatOutcomeEnum = pgEnum("beat_outcome", beatOutcomes);
