import { asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../client.ts";
import { deployments, type DeploymentRow } from "../schema/index.ts";

export async function deploymentById(db: Db, id: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row;
}

/** Deployments not ended yet (running, queued, or waiting for approval), in request order. */
export async function openDeployments(
  db: Db,
  statuses: readonly DeploymentRow["status"][] = ["running", "queued", "awaiting_approval"],
): Promise<DeploymentRow[]> {
  return db.select().from(deployments).where(inArray(deployments.status, [...statuses])).orderBy(asc(deployments.seq));
}

/** Sets columns of one deployment (its commit, build, target release...). */
export async function updateDeployment(db: Db, id: string, set: Partial<typeof deployments.$inferInsert>): Promise<void> {
  await db.update(deployments).set(set).where(eq(deployments.id, id));
}
