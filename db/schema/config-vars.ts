import { boolean, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { sealedText } from "./sealed.ts";

/** Values from `config set`, layered over the playbook's config when a release is cut. */
export const configVars = pgTable(
  "config_vars",
  {
    app: text("app").notNull(),
    env: text("env").notNull(),
    key: text("key").notNull(),
    /** Sealed at rest when RAPTOR_SECRET_KEY is set. */
    value: sealedText("value").notNull(),
    /** Marked secret by a person (`config secret ...`): masked even when its key looks ordinary. */
    secret: boolean("secret").notNull().default(false),
    updatedBy: text("updated_by").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.app, t.env, t.key] })],
);
