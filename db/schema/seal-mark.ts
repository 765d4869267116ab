import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The database's seal: one row (id 1), written by the first process that opens the database with
 * RAPTOR_SECRET_KEY set. `check` is a fixed text sealed with that key (lib/secret-box.ts), stored
 * as it is (not through `sealedText`), so a later process can tell "no key" and "another key" apart
 * before it writes anything (db/queries/seal-mark.ts). Without the row, config values are plain.
 */
export const sealMark = pgTable("seal_mark", {
  id: integer("id").primaryKey(),
  check: text("check").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
