import { and, eq, inArray, isNotNull, isNull } from "drizzle-orm";
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
