import { and, eq, gt, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { locks } from "../schema/index.ts";

export type EnvironmentLock = typeof locks.$inferSelect;

/**
 * The `lock` that holds on an app+env at `now`, if any (who, why, until when). A timed lock whose
 * `expiresAt` has passed is gone here, even before the beat's expire job (every 30 s) deletes its
 * row: every lock check goes through this, so none enforces a lock past its stated end.
 */
export async function environmentLock(db: Db, app: string, env: string, now: Date): Promise<EnvironmentLock | undefined> {
  const [lock] = await db
    .select()
    .from(locks)
    .where(and(eq(locks.app, app), eq(locks.env, env), or(isNull(locks.expiresAt), gt(locks.expiresAt, now))));
  return lock;
}

/** Takes the app+env's lock; false when someone already holds it. */
export async function insertEnvironmentLock(db: Db, l: { app: string; env: string; heldBy: string; reason?: string; expiresAt?: Date; origin?: string }): Promise<boolean> {
  const inserted = await db.insert(locks).values(l).onConflictDoNothing().returning();
  return inserted.length > 0;
}

/** Releases the app+env's lock; false when it was not locked. */
export async function deleteEnvironmentLock(db: Db, app: string, env: string): Promise<boolean> {
  const removed = await db.delete(locks).where(and(eq(locks.app, app), eq(locks.env, env))).returning();
  return removed.length > 0;
}

/**
 * Removes the timed locks whose time is up at `now` (of every app+env, or of one); returns them
 * (who held them, why, until when).
 */
export async function removeEndedLocks(db: Db, now: Date, of?: { app: string; env: string }): Promise<EnvironmentLock[]> {
  return db
    .delete(locks)
    .where(and(isNotNull(locks.expiresAt), lte(locks.expiresAt, now), of ? and(eq(locks.app, of.app), eq(locks.env, of.env)) : undefined))
    .returning();
}

/**
 * Takes the app+env's line lock for the rest of transaction `tx` (a Postgres transaction-scoped
 * advisory lock, not a row): two deployments of one app+env can then never both see the line
 * empty. Taken by deployments.ts `takeTurnInLine`; engine/locks.ts lists it with Raptor's other locks.
 */
export async function lockLine(tx: Db, app: string, env: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`raptor/${app}/${env}`}))`);
}
