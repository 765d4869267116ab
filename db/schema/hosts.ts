import { boolean, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Hosts seen in squads; `active` false keeps new procs off a host (placement skips it). */
export const hosts = pgTable("hosts", {
  name: text("name").primaryKey(),
  squad: text("squad").notNull(),
  active: boolean("active").notNull().default(true),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
  lastError: text("last_error"),
});
