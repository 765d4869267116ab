import { and, eq, lt, lte } from "drizzle-orm";
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

/**
 * Records a decision on a deployment's approval only while it is still pending: of two
 * simultaneous clicks (or a click and a cancel), one decides. True when this call decided it.
 */
export async function decidePendingApproval(
  db: Db,
  deploymentId: string,
  decision: { status: "approved" | "rejected"; decidedBy: string; decidedAt: Date; reason?: string },
): Promise<boolean> {
  const updated = await db
    .update(approvals)
    .set(decision)
    .where(and(eq(approvals.deploymentId, deploymentId), eq(approvals.status, "pending")))
    .returning();
  return updated.length > 0;
}

/** Marks a pending approval whose deadline is at or before `now` expired; true when this call did. */
export async function expirePendingApproval(db: Db, deploymentId: string, now: Date): Promise<boolean> {
  const expired = await db
    .update(approvals)
    .set({ status: "expired", decidedAt: now })
    .where(and(eq(approvals.deploymentId, deploymentId), eq(approvals.status, "pending"), lt(approvals.expiresAt, new Date(now.getTime() + 1))))
    .returning();
  return expired.length > 0;
}
