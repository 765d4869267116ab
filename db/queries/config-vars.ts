import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../client.ts";
import { configVars } from "../schema/index.ts";

export type ConfigVarRow = typeof configVars.$inferSelect;

/** The `config set` values of an app+env (secrets: never print them). */
export async function configVarsOf(db: Db, app: string, env: string): Promise<ConfigVarRow[]> {
  return db.select().from(configVars).where(and(eq(configVars.app, app), eq(configVars.env, env)));
}

/** Every `config set` value of every app+env (the redactor masks them all, whichever app a text is about). */
export async function allConfigVars(db: Db): Promise<Pick<ConfigVarRow, "app" | "env" | "key" | "value" | "secret">[]> {
  return db.select({ app: configVars.app, env: configVars.env, key: configVars.key, value: configVars.value, secret: configVars.secret }).from(configVars);
}

/**
 * Replaces an app+env's `config set` values with `values`, all or none (one transaction). A key a
 * person marked secret stays marked when it is kept, or `config` would show it (a rollback).
 */
export async function replaceConfigVars(db: Db, app: string, env: string, values: Record<string, string>, updatedBy: string): Promise<void> {
  await db.transaction(async (tx) => {
    const marked = await tx
      .select({ key: configVars.key })
      .from(configVars)
      .where(and(eq(configVars.app, app), eq(configVars.env, env), eq(configVars.secret, true)));
    const secretKeys = new Set(marked.map((r) => r.key));
    await tx.delete(configVars).where(and(eq(configVars.app, app), eq(configVars.env, env)));
    const keep = Object.entries(values);
    if (keep.length) {
      await tx.insert(configVars).values(keep.map(([key, value]) => ({ app, env, key, value, secret: secretKeys.has(key), updatedBy })));
    }
  });
}

/**
 * A `config set` / `config unset` / `config secret` made the new normal, all or none (one
 * transaction): `vars` are set (those in `secretKeys` marked secret; a key once marked stays
 * marked when set again without the mark), then `unset` keys are removed.
 */
export async function applyConfigChange(
  db: Db,
  app: string,
  env: string,
  change: { vars: Record<string, string>; secretKeys: readonly string[]; unset: readonly string[] },
  updatedBy: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const marked = new Set(change.secretKeys);
    for (const [key, value] of Object.entries(change.vars)) {
      const secret = marked.has(key) ? true : undefined;
      await tx
        .insert(configVars)
        .values({ app, env, key, value, secret: secret ?? false, updatedBy })
        .onConflictDoUpdate({ target: [configVars.app, configVars.env, configVars.key], set: { value, ...(secret ? { secret } : {}), updatedBy, updatedAt: new Date() } });
    }
    if (change.unset.length) {
      await tx.delete(configVars).where(and(eq(configVars.app, app), eq(configVars.env, env), inArray(configVars.key, [...change.unset])));
    }
  });
}
