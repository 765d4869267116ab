import { sql } from "drizzle-orm";
import type { Db } from "../client.ts";

/** Asks the database the smallest question (`select 1`), for /healthz; rejects when it does not answer. No table. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}
