import { and, eq } from "drizzle-orm";
import type { Db } from "../client.ts";
import { swarms } from "../schema/index.ts";

/** Sizes set by `scale` for an app+env, by proc type (the playbook's sizes apply to the rest). */
export async function scaledSizes(db: Db, app: string, env: string): Promise<Record<string, number>> {
  const rows = await db.select().from(swarms).where(and(eq(swarms.app, app), eq(swarms.env, env)));
  return Object.fromEntries(rows.map((r) => [r.procType, r.size]));
}

/** Records the sizes a `scale` set for an app+env (by proc type), all or none (one transaction). */
export async function setSwarmSizes(db: Db, app: string, env: string, sizes: Record<string, number>, updatedBy: string): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [procType, size] of Object.entries(sizes)) {
      await tx
        .insert(swarms)
        .values({ app, env, procType, size, updatedBy })
        .onConflictDoUpdate({ target: [swarms.app, swarms.env, swarms.procType], set: { size, updatedBy, updatedAt: new Date() } });
    }
  });
}
