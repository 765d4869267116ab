import { and, asc, desc, eq, gte, isNotNull, lt } from "drizzle-orm";
import type { Db } from "../client.ts";
import { beatRuns } from "../schema/index.ts";

/** One row of beat_runs: one run of one maintenance job for one tick. */
export type BeatRunRow = typeof beatRuns.$inferSelect;

/**
 * Claims one tick of a job: inserts its `running` row and returns the row's id, or undefined when
 * the tick was claimed already (the unique job + scheduled time: a tick runs once).
 */
export async function claimBeatRun(db: Db, job: string, scheduledFor: Date): Promise<number | undefined> {
  const [claim] = await db.insert(beatRuns).values({ job, scheduledFor }).onConflictDoNothing().returning({ id: beatRuns.id });
  return claim?.id;
}

/** Records how a claimed run ended and what it did. */
export async function finishBeatRun(db: Db, id: number, outcome: "done" | "idle" | "failed", detail: Record<string, unknown>): Promise<void> {
  await db.update(beatRuns).set({ outcome, detail, finishedAt: new Date() }).where(eq(beatRuns.id, id));
}

/** A job's latest finished run (by the tick it ran for), if it ever finished one. */
export async function lastFinishedBeatRun(db: Db, job: string): Promise<BeatRunRow | undefined> {
  const [last] = await db
    .select()
    .from(beatRuns)
    .where(and(eq(beatRuns.job, job), isNotNull(beatRuns.finishedAt)))
    .orderBy(desc(beatRuns.scheduledFor))
    .limit(1);
  return last;
}

/** Whether a run of the job is under way now (claimed, not finished). */
export async function beatJobRunning(db: Db, job: string): Promise<boolean> {
  const [running] = await db.select({ id: beatRuns.id }).from(beatRuns).where(and(eq(beatRuns.job, job), eq(beatRuns.outcome, "running"))).limit(1);
  return running !== undefined;
}

/** Beat runs scheduled in [from, to) that did something (outcome `done`), oldest first: the digest's drift. */
export async function doneRunsBetween(db: Db, from: Date, to: Date): Promise<{ job: string; detail: Record<string, unknown> }[]> {
  return db
    .select({ job: beatRuns.job, detail: beatRuns.detail })
    .from(beatRuns)
    .where(and(eq(beatRuns.outcome, "done"), gte(beatRuns.scheduledFor, from), lt(beatRuns.scheduledFor, to)))
    .orderBy(asc(beatRuns.scheduledFor));
}
