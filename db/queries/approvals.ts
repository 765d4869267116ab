import { and, eq, lte } from "drizzle-orm";
import type { Db } from "../client.ts";
import { approvals } from "../schema/index.ts";

export type ApprovalRow = typeof approvals.$inferSelect;

/** Approvals nobody has decided yet. */
export async function pendingApprovals(db: Db): Promise<ApprovalRow[]> {
  return db.select().from(approvals).where(eq(approvals.status, "pending"));
}

/** The approval asked for a deployment, if it needed one. */
export async function approvalOf(db: Db, deploymentId: string): Promise<ApprovalRow | undefined> {
  const [row] = await db.select().from(approvals).where(eq(approvals.deploymentId, deploymentId));
  return row;
}

/** Deployments whose approval is still pending at `now` though its deadline has passed. */
export async function overdueApprovals(db: Db, now: Date): Promise<string[]> {
  const rows = await db.select({ id: approvals.deploymentId }).from(approvals).where(and(eq(approvals.status, "pending"), lte(approvals.expiresAt, now)));
  return rows.map((r) => r.id);
}
