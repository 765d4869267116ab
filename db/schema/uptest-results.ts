import { bigserial, boolean, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { deployments } from "./deployments.ts";
import { procs } from "./procs.ts";

/** One uptest run against one proc (Velociraptor's {Name, Passed, Output}, plus the exit code). */
export const uptestResults = pgTable("uptest_results", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  procId: uuid("proc_id")
    .notNull()
    .references(() => procs.id),
  deploymentId: text("deployment_id").references(() => deployments.id),
  name: text("name").notNull(),
  passed: boolean("passed").notNull(),
  output: text("output").notNull(),
  exitCode: integer("exit_code"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
