import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, ne, or } from "drizzle-orm";
import type { Db } from "../client.ts";
import { approvals, deploymentSteps, deployments, type DeploymentRow } from "../schema/index.ts";
import { finalDeploymentStatuses, openDeploymentStatuses, type FinalDeploymentStatus } from "../schema/enums.ts";
import { lockLine } from "./locks.ts";
import { currentRelease } from "./releases.ts";

/** One deployment by its id. */
export async function deploymentById(db: Db, id: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row;
}

/** Deployments not ended yet (running, queued, or waiting for approval), in request order. */
export async function openDeployments(
  db: Db,
  statuses: readonly DeploymentRow["status"][] = openDeploymentStatuses,
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

/**
 * Ends a deployment: writes its final status (and when, and why) only while it is not final
 * already, in one conditional UPDATE. Returns the ended row to the one caller that ended it,
 * `undefined` to every other (the deployment had ended: its verdict stands). Whoever gets the row
 * says the verdict; nobody else does (engine/pipeline/end.ts).
 */
export async function endDeploymentWhileOpen(
  db: Db,
  id: string,
  set: { status: FinalDeploymentStatus; finishedAt: Date; errorCode?: DeploymentRow["errorCode"]; error?: string | null },
): Promise<DeploymentRow | undefined> {
  const [row] = await db
    .update(deployments)
    .set(set)
    .where(and(eq(deployments.id, id), inArray(deployments.status, [...openDeploymentStatuses])))
    .returning();
  return row;
}

/**
 * Sets columns of one deployment only while its status is one of `statuses` (a cancel, an
 * approval, a start that must not overtake one another). True when this call changed it.
 */
export async function updateDeploymentWhile(
  db: Db,
  id: string,
  statuses: readonly DeploymentRow["status"][],
  set: Partial<typeof deployments.$inferInsert>,
): Promise<boolean> {
  const changed = await db
    .update(deployments)
    .set(set)
    .where(and(eq(deployments.id, id), inArray(deployments.status, [...statuses])))
    .returning({ id: deployments.id });
  return changed.length > 0;
}

/**
 * Records a requested deployment, its planned steps (in order) and, when it needs one, its
 * pending approval, all or none (one transaction). Returns the ids of the deployments ahead of it
 * in its app+env's line, read in the same transaction.
 */
export async function recordDeploymentRequest(
  db: Db,
  r: {
    deployment: Omit<typeof deployments.$inferInsert, "seq" | "createdAt">;
    steps: readonly string[];
    approval?: { requestedBy: string; expiresAt: Date };
  },
): Promise<string[]> {
  const id = r.deployment.id;
  return db.transaction(async (tx) => {
    await tx.insert(deployments).values(r.deployment);
    await tx.insert(deploymentSteps).values(r.steps.map((name, position) => ({ deploymentId: id, name, position })));
    if (r.approval) await tx.insert(approvals).values({ deploymentId: id, ...r.approval });
    return (await deploymentsInLine(tx, r.deployment.app, r.deployment.env)).filter((x) => x !== id);
  });
}

/** Whether a deployment may run now: wait behind another, it started or resumed, or it is gone (cancelled). */
export type Turn = { kind: "wait"; behind: string } | { kind: "started" | "resumed" | "gone" };

/**
 * Whether it is this deployment's turn, and if so, marks it running, as one step: the check and
 * the update hold the line lock (locks.ts `lockLine`), so two deployments of one app+env can never
 * both see the line empty and start. A running deployment always goes first (approvals can
 * reorder); among the queued, request order. "gone": it was cancelled meanwhile.
 */
export async function takeTurnInLine(db: Db, d: DeploymentRow): Promise<Turn> {
  return db.transaction(async (tx) => {
    await lockLine(tx, d.app, d.env);
    const [ahead] = await tx
      .select({ id: deployments.id })
      .from(deployments)
      .where(
        and(
          eq(deployments.app, d.app),
          eq(deployments.env, d.env),
          ne(deployments.id, d.id),
          or(eq(deployments.status, "running"), and(eq(deployments.status, "queued"), lt(deployments.seq, d.seq))),
        ),
      )
      .orderBy(asc(deployments.seq))
      .limit(1);
    if (ahead) return { kind: "wait" as const, behind: ahead.id };
    if (d.status !== "queued") return { kind: "resumed" as const };
    // What this deployment replaces is what serves when it starts, not when it was asked for:
    // a deployment queued behind another replaces that one's release (the summary and the
    // Rollback button go back to it).
    const serving = await currentRelease(tx, d.app, d.env);
    // Only a deployment still queued starts: a cancel that landed since we read it wins.
    const started = await updateDeploymentWhile(tx, d.id, ["queued"], { status: "running", startedAt: new Date(), fromReleaseId: serving?.id ?? null });
    return { kind: started ? ("started" as const) : ("gone" as const) };
  });
}

/** The first queued deployment of an app+env's line (request order), if any. */
export async function firstQueued(db: Db, app: string, env: string): Promise<string | undefined> {
  const [next] = await db
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.app, app), eq(deployments.env, env), eq(deployments.status, "queued")))
    .orderBy(asc(deployments.seq))
    .limit(1);
  return next?.id;
}

/** The deployments that shipped (or tried to ship) these releases, newest first. */
export async function deploymentsOfReleases(db: Db, releaseIds: readonly string[]): Promise<DeploymentRow[]> {
  if (releaseIds.length === 0) return [];
  return db.select().from(deployments).where(inArray(deployments.toReleaseId, [...releaseIds])).orderBy(desc(deployments.seq));
}

/**
 * The succeeded deployments of an app+env that put a release in place, newest first: one that
 * ran the release already serving (a deploy that changed nothing, a scale, a restart) put none
 * there and is left out (new-user trial: a no-op deploy was credited with v3 after the rollback that cut it).
 */
export async function servingDeployments(db: Db, app: string, env: string, limit: number): Promise<DeploymentRow[]> {
  return db
    .select()
    .from(deployments)
    .where(
      and(
        eq(deployments.app, app),
        eq(deployments.env, env),
        eq(deployments.status, "succeeded"),
        isNotNull(deployments.toReleaseId),
        or(isNull(deployments.fromReleaseId), ne(deployments.fromReleaseId, deployments.toReleaseId)),
      ),
    )
    .orderBy(desc(deployments.finishedAt))
    .limit(limit);
}

/** Deployments that ended (succeeded, failed, cancelled, rejected) in [from, to), for the digest. */
export async function deploymentsEndedBetween(db: Db, from: Date, to: Date): Promise<DeploymentRow[]> {
  return db
    .select()
    .from(deployments)
    .where(and(inArray(deployments.status, [...finalDeploymentStatuses]), gte(deployments.finishedAt, from), lt(deployments.finishedAt, to)))
    .orderBy(asc(deployments.finishedAt));
}
