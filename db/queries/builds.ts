import { and, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { builds, type BuildRow } from "../schema/index.ts";

/**
 * Build rows. The unique index on app + commit + buildpack is the arbiter between workers: the
 * one whose insert lands builds, the others wait for that row. `createdAt` doubles as the lease
 * token of the worker building it: claims and take-overs set it (to the millisecond, so it
 * round-trips through JS Date exactly) and the builder's final update matches on it, so a worker
 * whose stale build was taken over cannot overwrite the new builder's result.
 */
export interface BuildKey {
  app: string;
  commit: string;
  /** The buildpack asked for, or "auto". */
  buildpack: string;
}

/** A `running` row older than this is a dead worker's; another may take it over. */
export const STALE_BUILD_MS = 30 * 60_000;

const nowMs = sql`date_trunc('milliseconds', now())`;

/** Inserts a `running` row for the key; returns it, or null if a row exists already. */
export async function claimBuild(db: Db, key: BuildKey): Promise<BuildRow | null> {
  const rows = await db
    .insert(builds)
    .values({ ...key, status: "running", createdAt: nowMs })
    .onConflictDoNothing({ target: [builds.app, builds.commit, builds.buildpack] })
    .returning();
  return rows[0] ?? null;
}

export async function findBuild(db: Db, key: BuildKey): Promise<BuildRow | undefined> {
  const rows = await db
    .select()
    .from(builds)
    .where(and(eq(builds.app, key.app), eq(builds.commit, key.commit), eq(builds.buildpack, key.buildpack)));
  return rows[0];
}

export async function getBuild(db: Db, id: string): Promise<BuildRow | undefined> {
  const rows = await db.select().from(builds).where(eq(builds.id, id));
  return rows[0];
}

/**
 * Takes a row over to build it again: a failed one (a new deploy retries the build), or a
 * `running` one older than STALE_BUILD_MS. Atomic: of several workers, exactly one gets the row.
 */
export async function takeOverBuild(db: Db, id: string, staleMs = STALE_BUILD_MS): Promise<BuildRow | null> {
  const staleBefore = sql`now() - make_interval(secs => ${staleMs / 1000})`;
  const rows = await db
    .update(builds)
    .set({ status: "running", createdAt: nowMs, finishedAt: null, log: "", path: null, md5: null, detected: null })
    .where(
      and(
        eq(builds.id, id),
        sql`(${builds.status} = 'failed' or (${builds.status} = 'running' and ${lt(builds.createdAt, staleBefore)}))`,
      ),
    )
    .returning();
  return rows[0] ?? null;
}

/**
 * Claims a succeeded build whose tarball is not on this machine (workers on several machines
 * without shared storage, or a wiped data dir) so it is built again into the same row: releases
 * keep pointing at it. The compare on `path` makes one worker win; others wait for it.
 */
export async function reclaimMissingBuild(db: Db, row: BuildRow): Promise<BuildRow | null> {
  if (!row.path) return null;
  const rows = await db
    .update(builds)
    .set({ status: "running", createdAt: nowMs, finishedAt: null, log: "", path: null, md5: null, detected: null })
    .where(and(eq(builds.id, row.id), eq(builds.status, "succeeded"), eq(builds.path, row.path)))
    .returning();
  return rows[0] ?? null;
}

/** The builder's lease: the row it claimed. Updates match on its createdAt. */
function leaseWhere(lease: BuildRow) {
  return and(eq(builds.id, lease.id), eq(builds.status, "running"), eq(builds.createdAt, lease.createdAt));
}

export async function succeedBuild(
  db: Db,
  lease: BuildRow,
  result: { path: string; md5: string; procfile: Record<string, string>; configVars: Record<string, string>; detected: string; log: string },
): Promise<BuildRow | null> {
  const rows = await db
    .update(builds)
    .set({ ...result, status: "succeeded", finishedAt: sql`now()`, prunedAt: null })
    .where(leaseWhere(lease))
    .returning();
  return rows[0] ?? null;
}

export async function failBuild(db: Db, lease: BuildRow, log: string, detected?: string): Promise<void> {
  await db
    .update(builds)
    .set({ status: "failed", log, detected: detected ?? null, finishedAt: sql`now()` })
    .where(leaseWhere(lease));
}

/** Every succeeded build (pruned or not), for the beat's prune job. */
export async function succeededBuilds(db: Db): Promise<Pick<BuildRow, "id" | "app" | "commit" | "createdAt" | "path" | "prunedAt">[]> {
  return db
    .select({ id: builds.id, app: builds.app, commit: builds.commit, createdAt: builds.createdAt, path: builds.path, prunedAt: builds.prunedAt })
    .from(builds)
    .where(eq(builds.status, "succeeded"));
}

/**
 * Sets pruned_at on the given succeeded builds not pruned yet; returns the ids it set. A build
 * rebuilt since (succeedBuild clears pruned_at) is pruned only if the next plan says so again.
 */
export async function markBuildsPruned(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .update(builds)
    .set({ prunedAt: sql`now()` })
    .where(and(inArray(builds.id, [...ids]), eq(builds.status, "succeeded"), isNull(builds.prunedAt)))
    .returning({ id: builds.id });
  return rows.map((r) => r.id);
}
