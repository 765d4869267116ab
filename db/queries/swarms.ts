import { and, eq } from "drizzle-orm";
import type { Db } from "../client.ts";
import { swarms } from "../schema/index.ts";

/** Sizes set by `scale` for an app+env, by proc type (the playbook's sizes apply to the rest). */
export async function scaledSizes(db: Db, app: string, env: string): Promise<Record<string, number>> {
  const rows = await db.select().from(swarms).where(and(eq(swarms.app, app), eq(swarms.env, env)));
  return Object.fromEntries(rows.map((r) => [r.procType, r.size]));
}
