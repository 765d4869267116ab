import { pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * `lock web production "incident 42"`: no deployment of that app+env starts while it is held.
 * `lock web production 2h reason` sets `expiresAt`; the beat's expire job releases it then.
 */
export const locks = pgTable(
  "locks",
  {
    app: text("app").notNull(),
    env: text("env").notNull(),
    heldBy: text("held_by").notNull(),
    reason: text("reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    /** Where the lock was taken ("terminal", "slack:<channel>:<ts>"): a timed lock's end is said there too. */
    origin: text("origin"),
  },
  (t) => [primaryKey({ columns: [t.app, t.env] })],
);
