import { and, eq, isNotNull, lte } from "drizzle-orm";
import type { Db } from "../client.ts";
import { locks } from "../schema/index.ts";

export type EnvironmentLock = typeof locks.$inferSelect;

/** The `lock` held on an app+env, if any (who, why). */
export async function environmentLock(db: Db, app: string, env: string): Promise<EnvironmentLock | undefined> {
  const [lock] = await db.select().from(locks).where(and(eq(locks.app, app), eq(locks.env, env)));
  return lock;
}

/** Takes the app+env's lock; false when someone already holds it. */
export async function insertEnvironmentLock(db: Db, l: { app: string; env: string; heldBy: string; reason?: string }): Promise<boolean> {
  const inserted = await db.insert(locks).values(l).onConflictDoNothing().returning();
  return inserted.length > 0;
}

/** Releases the app+env's lock; false when it was not locked. */
export async function deleteEnvironmentLock(db: Db, app: string, env: string): Promise<boolean> {
  const removed = await db.delete(locks).where(and(eq(locks.app, app), eq(locks.env, env))).returning();
  return removed.length > 0;
}

/** Removes the timed locks whose time is up at `now`; returns them (who held them, why, until when). */
export async function removeEndedLocks(db: Db, now: Date): Promise<EnvironmentLock[]> {
  return db.delete(locks).where(and(isNotNull(locks.expiresAt), lte(locks.expiresAt, now))).returning();
}
