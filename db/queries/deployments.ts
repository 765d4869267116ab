import { and, asc, eq, inArray, lt } from "drizzle-orm";
import type { Db } from "../client.ts";
import { deployments, type DeploymentRow } from "../schema/index.ts";

/** One deployment by its id. */
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

/** Statuses that hold a place in an app+env's line (engine/line.ts: one deployment per app+env at a time). */
export const inLineStatuses = ["queued", "running"] as const;

/** Ids of the deployments in an app+env's line, in request order (`db` may be a transaction). */
export async function deploymentsInLine(db: Db, app: string, env: string): Promise<string[]> {
  const rows = await db
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.app, app), eq(deployments.env, env), inArray(deployments.status, [...inLineStatuses])))
    .orderBy(asc(deployments.seq));
  return rows.map((r) => r.id);
}

/** Running deployments that started before `before` (the beat fails them as stuck). */
export async function runningSince(db: Db, before: Date): Promise<string[]> {
  const rows = await db
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(inArray(deployments.status, ["running"]), lt(deployments.startedAt, before)));
  return rows.map((r) => r.id);
}
