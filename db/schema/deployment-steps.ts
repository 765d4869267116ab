import { integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { deployments } from "./deployments.ts";
import { stepStatusEnum } from "./enums.ts";

/** The checkpoint of each pipeline step: a recovered worker resumes from the first unfinished one. */
export const deploymentSteps = pgTable(
  "deployment_steps",
  {
    deploymentId: text("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    position: integer("position").notNull(),
    status: stepStatusEnum("status").notNull().default("pending"),
    /** What the step produced, read by later steps and by a resumed run. */
    result: jsonb("result").$type<Record<string, unknown>>(),
    error: text("error"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.name] })],
);
