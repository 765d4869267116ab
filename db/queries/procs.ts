import { and, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { procs, type ProcRow, type ProcStatus } from "../schema/index.ts";

/** Live procs (not removed) of an app+env, optionally of one release, by host and port. */
export async function liveProcs(db: Db, app: string, env: string, releaseId?: string): Promise<ProcRow[]> {
  return db
    .select()
    .from(procs)
    .where(and(eq(procs.app, app), eq(procs.env, env), isNull(procs.removedAt), releaseId ? eq(procs.releaseId, releaseId) : undefined))
    .orderBy(procs.host, procs.port, procs.createdAt);
}

/** Live procs of any app on these hosts. */
export async function liveProcsOnHosts(db: Db, hosts: readonly string[]): Promise<ProcRow[]> {
  if (hosts.length === 0) return [];
  return db.select().from(procs).where(and(inArray(procs.host, [...hosts]), isNull(procs.removedAt)));
}

/** A deployment's live procs, optionally only those on one host. */
export async function liveProcsOfDeployment(db: Db, deploymentId: string, host?: string): Promise<ProcRow[]> {
  return db
    .select()
    .from(procs)
    .where(and(eq(procs.deploymentId, deploymentId), host === undefined ? undefined : eq(procs.host, host), isNull(procs.removedAt)));
}

/** Sets the status of these procs (a restarted proc is `running` again). */
export async function setProcStatus(db: Db, ids: readonly string[], status: ProcStatus): Promise<void> {
  if (ids.length) await db.update(procs).set({ status }).where(inArray(procs.id, [...ids]));
}

/** Marks procs removed from their hosts (stopped, or failed when they could not be removed). */
export async function markProcsRemoved(db: Db, ids: readonly string[], status: "stopped" | "failed" = "stopped"): Promise<void> {
  if (ids.length) await db.update(procs).set({ status, removedAt: new Date() }).where(inArray(procs.id, [...ids]));
}

/** Every `host:port` any proc of this app+env has had, live or removed. */
export async function nodesEverUsed(db: Db, app: string, env: string): Promise<Set<string>> {
  const rows = await db
    .selectDistinct({ host: procs.host, port: procs.port })
    .from(procs)
    .where(and(eq(procs.app, app), eq(procs.env, env), isNotNull(procs.port)));
  return new Set(rows.map((r) => `${r.host}:${r.port}`));
}

/** Ports leased to Raptor's live procs on a host (a live row with a port is the lease). */
export async function portsLeasedOn(db: Db, host: string): Promise<Set<number>> {
  const rows = await db.select({ port: procs.port }).from(procs).where(and(eq(procs.host, host), isNull(procs.removedAt)));
  return new Set(rows.flatMap((r) => (r.port ? [r.port] : [])));
}

/** What a new proc row needs; id, status (`starting`) and times are the table's defaults. */
export type NewProc = Pick<typeof procs.$inferInsert, "app" | "env" | "procType" | "releaseId" | "deploymentId" | "host" | "port" | "name">;

/**
 * Inserts one proc row, which leases its port. Throws the database's unique violation when a
 * live proc on the host already has that port or name (the caller looks for another port).
 */
export async function insertProc(db: Db, p: NewProc): Promise<ProcRow> {
  const [row] = await db.insert(procs).values(p).returning();
  return row!;
}

/**
 * Places and leases new procs with every placement serialized: `choose` reads the live procs it
 * places against through `tx`, inside one transaction holding a transaction-scoped advisory lock,
 * and the rows it returns are inserted before the lock is let go. Two deployments placing at once
 * then never pick the same host:port; before, each read the loads, and the loser of the unique
 * index placed again (20 deployments at once ran out of retries: bench/throughput.ts). Placement
 * is milliseconds of work, so one lock for all squads costs nothing worth a finer one.
 * Throws what `choose` or the insert throws (the transaction is rolled back).
 */
export async function placeAndLease(db: Db, choose: (tx: Db) => Promise<readonly NewProc[]>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('raptor/placement'))`);
    for (const p of await choose(tx)) await tx.insert(procs).values(p);
  });
}

/** Puts an app+env's draining procs (marked by a scale-down that did not finish) back to `routed`. */
export async function undrainProcs(db: Db, app: string, env: string): Promise<void> {
  await db.update(procs).set({ status: "routed" }).where(and(eq(procs.app, app), eq(procs.env, env), eq(procs.status, "draining"), isNull(procs.removedAt)));
}

/** Ends every live proc of a deployment as `failed` (those its compensation could not remove). */
export async function failLiveProcsOfDeployment(db: Db, deploymentId: string): Promise<void> {
  await db.update(procs).set({ status: "failed", removedAt: new Date() }).where(and(eq(procs.deploymentId, deploymentId), isNull(procs.removedAt)));
}

/** The release ids live procs (not removed) run, every app. */
export async function liveReleaseIds(db: Db): Promise<Set<string>> {
  const rows = await db.selectDistinct({ releaseId: procs.releaseId }).from(procs).where(isNull(procs.removedAt));
  return new Set(rows.map((r) => r.releaseId));
}
