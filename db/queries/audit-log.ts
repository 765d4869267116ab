import { and, asc, desc, eq, gte, inArray } from "drizzle-orm";
import type { Db } from "../client.ts";
import { approvals, auditLog, deployments } from "../schema/index.ts";
import type { ErrorCode } from "../../lib/error-codes.ts";
import type { ApprovalStatus } from "../schema/enums.ts";

/** What one audit entry records: who did what, on what, and how it ended; `at` is the database's now. */
export type AuditEntry = Omit<typeof auditLog.$inferInsert, "id" | "at">;

/** Appends one entry to the audit log (append-only: nothing updates or deletes it). */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}

export type AuditRow = typeof auditLog.$inferSelect;

/** The audit actions that ask for a deployment (requested or refused), as dispatch and the engine record them. */
export const DEPLOYMENT_ACTIONS = ["deploy", "rollback", "scale", "restart", "config", "config-set", "config-unset", "promote"] as const;

/** An audit row of a deployment request, with how its deployment ended (when there is one). */
export interface DeployHistoryRow {
  audit: AuditRow;
  deployment?: { id: string; kind: string; status: string; errorCode: ErrorCode | null; finishedAt: Date | null; fromReleaseId: string | null; toReleaseId: string | null };
  /** The deployment's approval, when it needed one: how it was decided, by whom, and why. */
  approval?: { status: ApprovalStatus; by: string | null; reason: string | null };
  /** Who asked to cancel it (the first `cancel` recorded for it), when someone did. */
  cancelledBy?: string;
}

/**
 * The deployment requests of an app+env recorded since `since` (accepted and refused), newest
 * first, at most `limit`, each with its deployment's outcome, its approval's decision (approved,
 * rejected or expired, and by whom) and who cancelled it.
 */
export async function deploymentRequestsSince(db: Db, app: string, env: string, since: Date, limit: number): Promise<DeployHistoryRow[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.app, app), eq(auditLog.env, env), gte(auditLog.at, since), inArray(auditLog.action, [...DEPLOYMENT_ACTIONS]), inArray(auditLog.outcome, ["requested", "refused"])))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(limit);
  const ids = rows.flatMap((r) => (r.deploymentId ? [r.deploymentId] : []));
  const ds = ids.length
    ? await db
        .select({ id: deployments.id, kind: deployments.kind, status: deployments.status, errorCode: deployments.errorCode, finishedAt: deployments.finishedAt, fromReleaseId: deployments.fromReleaseId, toReleaseId: deployments.toReleaseId, approvalStatus: approvals.status, approvalBy: approvals.decidedBy, approvalReason: approvals.reason })
        .from(deployments)
        .leftJoin(approvals, eq(approvals.deploymentId, deployments.id))
        .where(inArray(deployments.id, ids))
    : [];
  const byId = new Map(ds.map((d) => [d.id, d]));
  // Oldest first, so the first person who asked to cancel is the one named.
  const cancels = ids.length
    ? await db
        .select({ deploymentId: auditLog.deploymentId, actor: auditLog.actor })
        .from(auditLog)
        .where(and(inArray(auditLog.deploymentId, ids), eq(auditLog.action, "cancel")))
        .orderBy(asc(auditLog.id))
    : [];
  const cancelledBy = new Map<string, string>();
  for (const c of cancels) if (c.deploymentId && !cancelledBy.has(c.deploymentId)) cancelledBy.set(c.deploymentId, c.actor);
  return rows.map((audit) => {
    const d = audit.deploymentId ? byId.get(audit.deploymentId) : undefined;
    if (!d) return { audit };
    const { approvalStatus, approvalBy, approvalReason, ...deployment } = d;
    const canceller = cancelledBy.get(d.id);
    return {
      audit,
      deployment,
      ...(approvalStatus ? { approval: { status: approvalStatus, by: approvalBy, reason: approvalReason } } : {}),
      ...(canceller ? { cancelledBy: canceller } : {}),
    };
  });
}

/** The audit row that asked for a deployment (its `requested` record), if kept. */
export async function requestOf(db: Db, deploymentId: string): Promise<AuditRow | undefined> {
  const [row] = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.deploymentId, deploymentId), eq(auditLog.outcome, "requested")))
    .orderBy(desc(auditLog.id))
    .limit(1);
  return row;
}

/** Of `names`, those some audit row was written by (people who typed a command): for the redactor, which never masks a person's name. */
export async function actorsAmong(db: Db, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await db.selectDistinct({ actor: auditLog.actor }).from(auditLog).where(inArray(auditLog.actor, [...names]));
  return rows.map((r) => r.actor);
}
