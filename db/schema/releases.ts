import { integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { builds } from "./builds.ts";
import { sealedJson } from "./sealed.ts";

/** Build + resolved config for one app and environment, numbered v1, v2, ... Immutable. */
export const releases = pgTable(
  "releases",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    app: text("app").notNull(),
    env: text("env").notNull(),
    number: integer("number").notNull(),
    buildId: uuid("build_id")
      .notNull()
      .references(() => builds.id),
    /** Env vars the procs get (ingredients < environment < config set). Secrets: sealed at rest, masked on display. */
    config: sealedJson<Record<string, string>>()("config").notNull(),
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull(),
    /** Short hash of build + config + settings: two releases with the same hash run the same thing (a deploy of what already serves cuts no new release). */
    hash: text("hash").notNull(),
    createdBy: text("created_by").notNull(),
    /** What made it: "deploy", "rollback of v3", "config set FOO". */
    description: text("description").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("releases_app_env_number").on(t.app, t.env, t.number)],
);

/** One row of releases, as drizzle reads it. */
export type ReleaseRow = typeof releases.$inferSelect;
