import type { Db } from "../client.ts";
import { auditLog } from "../schema/index.ts";

/** What one audit entry records: who did what, on what, and how it ended; `at` is the database's now. */
export type AuditEntry = Omit<typeof auditLog.$inferInsert, "id" | "at">;

/** Appends one entry to the audit log (append-only: nothing updates or deletes it). */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}
