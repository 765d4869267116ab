import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Every command and decision: who, what, on what, and how it ended (accepted, refused, ...). */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    app: text("app"),
    env: text("env"),
    deploymentId: text("deployment_id"),
    outcome: text("outcome").notNull(),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  // By actor: the redactor asks whether a secret value is a person's name (engine/redact.ts), on every answer.
  (t) => [index("audit_log_at").on(t.at), index("audit_log_actor").on(t.actor)],
);
