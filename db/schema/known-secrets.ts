import { bigserial, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { sealedText } from "./sealed.ts";

/**
 * Every secret value a person has asked Raptor to set (`config secret`, or `config set` under a
 * secret-looking key or with a password in it), written when the request reaches the engine,
 * before it is queued, approved, refused or run. The redactor masks these from that moment on,
 * whatever became of the request (config_vars only holds the values a finished deployment made
 * the new normal). Rows are never read back as config; they only widen the redactor.
 */
export const knownSecrets = pgTable(
  "known_secrets",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    app: text("app").notNull(),
    env: text("env").notNull(),
    key: text("key").notNull(),
    /** Sealed at rest when RAPTOR_SECRET_KEY is set. */
    value: sealedText("value").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("known_secrets_app_env").on(t.app, t.env)],
);
