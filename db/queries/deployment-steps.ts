import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../client.ts";
import { deploymentSteps } from "../schema/index.ts";

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
