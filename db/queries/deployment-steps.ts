import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../client.ts";
import { deployments, deploymentSteps, type DeploymentRow } from "../schema/index.ts";

/** One row of deployment_steps: a step's checkpoint. */
export type DeploymentStepRow = typeof deploymentSteps.$inferSelect;

/** A deployment's step checkpoints in pipeline order. */
export async function stepsOf(db: Db, deploymentId: string): Promise<DeploymentStepRow[]> {
  return db.select().from(deploymentSteps).where(eq(deploymentSteps.deploymentId, deploymentId)).orderBy(asc(deploymentSteps.position));
}

/** One step's checkpoint, if the deployment has that step. */
export async function stepOf(db: Db, deploymentId: string, name: string): Promise<DeploymentStepRow | undefined> {
  const [row] = await db
    .select()
    .from(deploymentSteps)
    .where(and(eq(deploymentSteps.deploymentId, deploymentId), eq(deploymentSteps.name, name)));
  return row;
}

/** Sets columns of one step's checkpoint (status, result, error, times). */
export async function updateStep(db: Db, deploymentId: string, name: string, set: Partial<Omit<DeploymentStepRow, "deploymentId" | "name" | "position">>): Promise<void> {
  await db.update(deploymentSteps).set(set).where(and(eq(deploymentSteps.deploymentId, deploymentId), eq(deploymentSteps.name, name)));
}

/** Marks every step not yet ended (pending or running) with `status`: what a stopped deployment will not run. */
export async function markUnfinishedSteps(db: Db, deploymentId: string, status: DeploymentStepRow["status"]): Promise<void> {
  await db
    .update(deploymentSteps)
    .set({ status })
    .where(and(eq(deploymentSteps.deploymentId, deploymentId), inArray(deploymentSteps.status, ["pending", "running"])));
}

/** How beginStepUnlessCancelled went: the step began, a cancel was asked first, or the deployment is no longer running. */
export type StepBegin = { kind: "begun" | "cancel" | "ended"; deployment: DeploymentRow };

/**
 * Marks step `name` running unless a cancel was asked for first, as one step against
 * requestCancelUnlessPast: both hold the deployment's row lock, so a cancel either lands before
 * the step begins (and the pipeline honours it) or sees the step under way (and is told so).
 */
export async function beginStepUnlessCancelled(db: Db, deploymentId: string, name: string, honourCancel: boolean): Promise<StepBegin> {
  return db.transaction(async (tx) => {
    const [d] = await tx.select().from(deployments).where(eq(deployments.id, deploymentId)).for("update");
    if (!d) throw new Error(`deployment ${deploymentId} does not exist`);
    if (d.status !== "running") return { kind: "ended", deployment: d };
    if (d.cancelRequested && honourCancel) return { kind: "cancel", deployment: d };
    await tx.update(deploymentSteps).set({ status: "running", startedAt: new Date(), error: null }).where(and(eq(deploymentSteps.deploymentId, deploymentId), eq(deploymentSteps.name, name)));
    return { kind: "begun", deployment: d };
  });
}

/** How requestCancelUnlessPast went; `step` is the step under way (or the last that ended). */
export type CancelAsk = { kind: "asked" | "too_late"; step?: string; deployment: DeploymentRow } | { kind: "not_running"; deployment?: DeploymentRow };

/**
 * Asks a running deployment to stop at its next step boundary, unless `tooLate(steps)` names a
 * step under way past its point of no return (then nothing is set). Holds the deployment's row
 * lock against beginStepUnlessCancelled.
 */
export async function requestCancelUnlessPast(db: Db, deploymentId: string, tooLate: (steps: DeploymentStepRow[]) => string | undefined, current: (steps: DeploymentStepRow[]) => string | undefined): Promise<CancelAsk> {
  return db.transaction(async (tx) => {
    const [d] = await tx.select().from(deployments).where(eq(deployments.id, deploymentId)).for("update");
    if (!d || d.status !== "running") return { kind: "not_running", ...(d ? { deployment: d } : {}) };
    const steps = await tx.select().from(deploymentSteps).where(eq(deploymentSteps.deploymentId, deploymentId)).orderBy(asc(deploymentSteps.position));
    const late = tooLate(steps);
    if (late) return { kind: "too_late", step: late, deployment: d };
    await tx.update(deployments).set({ cancelRequested: true }).where(eq(deployments.id, deploymentId));
    const step = current(steps);
    return { kind: "asked", ...(step ? { step } : {}), deployment: d };
  });
}
