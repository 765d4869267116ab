import { eq } from "drizzle-orm";
import type { Db } from "../client.ts";
import { approvals } from "../schema/index.ts";

export type ApprovalRow = typeof approvals.$inferSelect;

/** Approvals nobody has decided yet. */
export async function pendingApprovals(db: Db): Promise<ApprovalRow[]> {
  return db.select().from(approvals).where(eq(approvals.status, "pending"));
}

export async function approvalOf(db: Db, deploymentId: string): Promise<ApprovalRow | undefined> {
  const [row] = await db.select().from(approvals).where(eq(approvals.deploymentId, deploymentId));
  return row;
}
