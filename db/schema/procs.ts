import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { deployments } from "./deployments.ts";
import { procStatusEnum } from "./enums.ts";
import { releases } from "./releases.ts";

/**
 * A proc with a stable id. The row is the source of truth; the name on the host is for people.
 * The partial unique index on (host, port) is the atomic port lease: inserting a row takes the port.
 */
export const procs = pgTable(
  "procs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    app: text("app").notNull(),
    env: text("env").notNull(),
    procType: text("proc_type").notNull(),
    releaseId: uuid("release_id")
      .notNull()
      .references(() => releases.id),
    deploymentId: text("deployment_id").references(() => deployments.id),
    host: text("host").notNull(),
    port: integer("port"),
    /** supervisord program name: <app>-<env>-v<N>-<proctype>-<port|n> */
    name: text("name").notNull(),
    status: procStatusEnum("status").notNull().default("starting"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    removedAt: timestamp("removed_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("procs_live_host_port").on(t.host, t.port).where(sql`${t.removedAt} is null and ${t.port} is not null`),
    uniqueIndex("procs_live_host_name").on(t.host, t.name).where(sql`${t.removedAt} is null`),
    index("procs_app_env").on(t.app, t.env),
  ],
);

/** One row of procs, as drizzle reads it. */
export type ProcRow = typeof procs.$inferSelect;
