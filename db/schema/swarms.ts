import { integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The desired size of one proc type of an app in an environment, once someone has scaled it.
 * Without a row the playbook's `size` holds; `scale web=6` writes one, and later deploys keep it.
 */
export const swarms = pgTable(
  "swarms",
  {
    app: text("app").notNull(),
    env: text("env").notNull(),
    procType: text("proc_type").notNull(),
    size: integer("size").notNull(),
    updatedBy: text("updated_by").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.app, t.env, t.procType] })],
);
