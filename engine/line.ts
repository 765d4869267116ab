import { and, asc, eq, inArray, lt, ne, or } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { deployments, type DeploymentRow } from "../db/schema/index.ts";
import { currentRelease } from "../db/queries/releases.ts";
import type { EngineApiDeps } from "./context.ts";
import { lockLine } from "./locks.ts";

/**
 * One deployment per app+env at a time, in request order: the line. A deployment takes its turn
 * when nothing of its app+env runs and nothing queued before it waits; whoever ends (succeeds,
 * fails, is cancelled) promotes the next. The API asks who is in line; the pipeline takes turns.
 */

/** Statuses that hold a place in an app+env's line. */
export const inLineStatuses = ["queued", "running"] as const;

/** How long a deployment waiting its turn sleeps before looking again, unless promoted sooner. */
export const TURN_RECHECK_MS = 3_000;

/** Ids of the deployments in an app+env's line, in request order (`tx` may be a transaction). */
export async function whoIsInLine(db: Pick<Db, "select">, app: string, env: string): Promise<string[]> {
  const rows = await db
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.app, app), eq(deployments.env, env), inArray(deployments.status, [...inLineStatuses])))
    .orderBy(asc(deployments.seq));
  return rows.map((r) => r.id);
}

export type Turn = { kind: "wait"; behind: string } | { kind: "started" | "resumed" | "gone" };

/**
 * Whether it is this deployment's turn, and if so, marks it running, as one step: the check and
 * the update hold the line lock (locks.ts), so two deployments of one app+env can never both see
 * the line empty and start. A running deployment always goes first (approvals can reorder); among
 * the queued, request order. "gone": it was cancelled meanwhile.
 */
export async function takeTurn(deps: Pick<EngineApiDeps, "db">, d: DeploymentRow): Promise<Turn> {
  return deps.db.transaction(async (tx) => {
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
    const serving = await currentRelease(tx as unknown as Db, d.app, d.env);
    // Only a deployment still queued starts: a cancel that landed since we read it wins.
    const started = await tx
      .update(deployments)
      .set({ status: "running", startedAt: new Date(), fromReleaseId: serving?.id ?? null })
      .where(and(eq(deployments.id, d.id), eq(deployments.status, "queued")))
      .returning({ id: deployments.id });
    return { kind: started.length ? ("started" as const) : ("gone" as const) };
  });
}

/** Wakes the next deployment in an app+env's line, if it is waiting (a delayed job). */
export async function promoteNext(deps: Pick<EngineApiDeps, "db" | "queues">, app: string, env: string): Promise<void> {
  const [next] = await deps.db
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.app, app), eq(deployments.env, env), eq(deployments.status, "queued")))
    .orderBy(asc(deployments.seq))
    .limit(1);
  if (next) await deps.queues.promote(next.id);
}
