import { and, eq } from "drizzle-orm";
import type { Db } from "../client.ts";
import { configVars } from "../schema/index.ts";

export type ConfigVarRow = typeof configVars.$inferSelect;

/** The `config set` values of an app+env (secrets: never print them). */
export async function configVarsOf(db: Db, app: string, env: string): Promise<ConfigVarRow[]> {
  return db.select().from(configVars).where(and(eq(configVars.app, app), eq(configVars.env, env)));
}
