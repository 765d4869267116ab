import { bigserial, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { beatOutcomeEnum } from "./enums.ts";

/**
 * One run of one maintenance job for one tick of the beat. The unique (job, scheduled_for) is the
 * last guard against running a tick twice (the BullMQ jobId is the first): a second claim of the
 * same tick inserts nothing and does nothing.
 */
export const beatRuns = pgTable(
  "beat_runs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    job: text("job").notNull(),
    scheduledFor: timestamp("scheduled_for", { withTimezone: true }).notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    outcome: beatOutcomeEnum("outcome").notNull().default("running"),
    /** What the run did, job-specific ({ expired: [...], repairs: [...] }), or `{ error }`. */
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [uniqueIndex("beat_runs_job_tick").on(t.job, t.scheduledFor)],
);
