import { and, desc, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { deployments, procs, releases, swarms, type DeploymentRow, type ProcRow, type ReleaseRow } from "../db/schema/index.ts";
import type { Environment } from "../playbooks/types.ts";


/** The release serving an app+env: the one the last successful deployment left in place. */
export async function currentRelease(db: Db, app: string, env: string): Promise<ReleaseRow | undefined> {
  const [row] = await db
    .select({ release: releases })
    .from(deployments)
    .innerJoin(releases, eq(releases.id, deployments.toReleaseId))
    .where(and(eq(deployments.app, app), eq(deployments.env, env), eq(deployments.status, "succeeded"), isNotNull(deployments.toReleaseId)))
    .orderBy(desc(deployments.finishedAt))
    .limit(1);
  return row?.release;
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

/** Live procs (not removed) of an app+env, optionally of one release. */
export async function liveProcs(db: Db, app: string, env: string, releaseId?: string): Promise<ProcRow[]> {
  return db
    .select()
    .from(procs)
    .where(and(eq(procs.app, app), eq(procs.env, env), isNull(procs.removedAt), releaseId ? eq(procs.releaseId, releaseId) : undefined))
    .orderBy(procs.host, procs.port, procs.createdAt);
}

export async function liveProcsOnHosts(db: Db, hosts: string[]): Promise<ProcRow[]> {
  if (hosts.length === 0) return [];
  return db.select().from(procs).where(and(inArray(procs.host, hosts), isNull(procs.removedAt)));
}

/** Desired sizes: the playbook's, overridden by `scale` (kept in the swarms table). */
export async function desiredSizes(db: Db, environment: Environment): Promise<Record<string, number>> {
  const rows = await db
    .select()
    .from(swarms)
    .where(and(eq(swarms.app, environment.app), eq(swarms.env, environment.name)));
  const sizes = { ...environment.size };
  for (const r of rows) sizes[r.procType] = r.size;
  return sizes;
}

/**
 * Whether a proc type listens on a port (and so gets PORT, uptests against it, and a pool node):
 * the environment's `listen` list (playbook key; the app's, else [web], when the environment has none).
 */
export const listens = (environment: Pick<Environment, "listen">, procType: string): boolean => environment.listen.includes(procType);

export async function deploymentById(db: Db, id: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row;
}
