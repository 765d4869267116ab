import { jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { buildStatusEnum } from "./enums.ts";

/** A buildpack's output for one commit. Keyed by app + commit + buildpack: reused, never rebuilt. */
export const builds = pgTable(
  "builds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    app: text("app").notNull(),
    commit: text("commit").notNull(),
    /** The buildpack asked for, or "auto" when detection chose (the chosen one is in `detected`). */
    buildpack: text("buildpack").notNull(),
    detected: text("detected"),
    status: buildStatusEnum("status").notNull().default("running"),
    /** Path of build.tar.gz in the build store, and its md5 (hex). */
    path: text("path"),
    md5: text("md5"),
    /** Procfile: proc type -> command line. */
    procfile: jsonb("procfile").$type<Record<string, string>>(),
    /** bin/release's config_vars, defaults under the release's own config. */
    configVars: jsonb("config_vars").$type<Record<string, string>>(),
    log: text("log").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** Set when the beat's prune job deleted the tarball: the build can no longer be started. */
    prunedAt: timestamp("pruned_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("builds_app_commit_buildpack").on(t.app, t.commit, t.buildpack)],
);

/** One row of builds, as drizzle reads it. */
export type BuildRow = typeof builds.$inferSelect;
