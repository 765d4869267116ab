import { and, desc, eq, isNotNull, max } from "drizzle-orm";
import type { Db } from "../client.ts";
import { builds, deployments, releases, type ReleaseRow } from "../schema/index.ts";

/** The release serving an app+env: the one the last successful deployment left in place. */
export async function currentRelease(db: Db, app: string, env: string): Promise<ReleaseRow | undefined> {
  const [row] = await servedReleasesQuery(db, app, env).limit(1);
  return row?.release;
}

/** Every release a successful deployment left serving, newest first (repeats included). */
export async function servedReleases(db: Db, app: string, env: string): Promise<ReleaseRow[]> {
  return (await servedReleasesQuery(db, app, env)).map((r) => r.release);
}

function servedReleasesQuery(db: Db, app: string, env: string) {
  return db
    .select({ release: releases })
    .from(deployments)
    .innerJoin(releases, eq(releases.id, deployments.toReleaseId))
    .where(and(eq(deployments.app, app), eq(deployments.env, env), eq(deployments.status, "succeeded"), isNotNull(deployments.toReleaseId)))
    .orderBy(desc(deployments.finishedAt))
    .$dynamic();
}

export async function releaseByNumber(db: Db, app: string, env: string, number: number): Promise<ReleaseRow | undefined> {
  const [row] = await db
    .select()
    .from(releases)
    .where(and(eq(releases.app, app), eq(releases.env, env), eq(releases.number, number)));
  return row;
}

export async function releaseById(db: Db, id: string): Promise<ReleaseRow | undefined> {
  const [row] = await db.select().from(releases).where(eq(releases.id, id));
  return row;
}

/** The newest releases of an app+env, highest number first (`releases` answers). */
export async function latestReleases(db: Db, app: string, env: string, limit: number): Promise<ReleaseRow[]> {
  return db.select().from(releases).where(and(eq(releases.app, app), eq(releases.env, env))).orderBy(desc(releases.number)).limit(limit);
}

/**
 * Inserts the next release number of an app+env. Two deployments of one app+env never cut at
 * once (the line forbids it); the unique index still guards the number, and a collision retries.
 */
export async function insertNextRelease(db: Db, r: Omit<typeof releases.$inferInsert, "number" | "id" | "createdAt">): Promise<ReleaseRow> {
  for (let attempt = 0; ; attempt++) {
    const [{ n } = { n: 0 }] = await db.select({ n: max(releases.number) }).from(releases).where(and(eq(releases.app, r.app), eq(releases.env, r.env)));
    try {
      const [row] = await db
        .insert(releases)
        .values({ ...r, number: (n ?? 0) + 1 })
        .returning();
      return row!;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/**
 * The releases of an app+env whose build is of `commit`, newest first, each with whether a
 * successful deployment ever left it serving (promote_from asks: has this commit served there?).
 */
export async function releasesOfCommit(db: Db, app: string, env: string, commit: string): Promise<{ release: ReleaseRow; served: boolean }[]> {
  const rows = await db
    .select({ release: releases })
    .from(releases)
    .innerJoin(builds, eq(builds.id, releases.buildId))
    .where(and(eq(releases.app, app), eq(releases.env, env), eq(builds.commit, commit)))
    .orderBy(desc(releases.number));
  const served = new Set((await servedReleases(db, app, env)).map((r) => r.id));
  return rows.map((r) => ({ release: r.release, served: served.has(r.release.id) }));
}

/** A release with the commit of its build (full sha), for history and diffs. */
export async function releasesWithCommits(db: Db, app: string, env: string, limit: number): Promise<{ release: ReleaseRow; commit: string }[]> {
  return db
    .select({ release: releases, commit: builds.commit })
    .from(releases)
    .innerJoin(builds, eq(builds.id, releases.buildId))
    .where(and(eq(releases.app, app), eq(releases.env, env)))
    .orderBy(desc(releases.number))
    .limit(limit);
}

/** The commit (full sha) of a release's build. */
export async function commitOfRelease(db: Db, release: Pick<ReleaseRow, "buildId">): Promise<string | undefined> {
  const [row] = await db.select({ commit: builds.commit }).from(builds).where(eq(builds.id, release.buildId));
  return row?.commit;
}

/** Every release (id, app, env, number, build, config): the prune job's view of what rollback may start. */
export async function allReleases(db: Db): Promise<Pick<ReleaseRow, "id" | "app" | "env" | "number" | "buildId" | "config">[]> {
  return db.select({ id: releases.id, app: releases.app, env: releases.env, number: releases.number, buildId: releases.buildId, config: releases.config }).from(releases);
}

/** Every (app, env, release, finished at) a succeeded deployment left serving, all environments. */
export async function servedHistory(db: Db): Promise<{ app: string; env: string; releaseId: string; finishedAt: Date }[]> {
  const rows = await db
    .select({ app: deployments.app, env: deployments.env, releaseId: deployments.toReleaseId, finishedAt: deployments.finishedAt })
    .from(deployments)
    .where(and(eq(deployments.status, "succeeded"), isNotNull(deployments.toReleaseId)));
  return rows.map((r) => ({ app: r.app, env: r.env, releaseId: r.releaseId!, finishedAt: r.finishedAt ?? new Date(0) }));
}
