import { pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** `lock web production "incident 42"`: no deployment of that app+env starts while it is held. */
export const locks = pgTable(
  "locks",
  {
    app: text("app").notNull(),
    env: text("env").notNull(),
    heldBy: text("held_by").notNull(),
    reason: text("reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.app, t.env] })],
);
