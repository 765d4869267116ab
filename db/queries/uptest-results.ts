import type { Db } from "../client.ts";
import { uptestResults } from "../schema/index.ts";

/** Records one uptest's outcome against a proc (output already redacted by the caller). */
export async function recordUptestResult(db: Db, r: typeof uptestResults.$inferInsert): Promise<void> {
  await db.insert(uptestResults).values(r);
}
