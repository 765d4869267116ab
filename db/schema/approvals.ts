import { pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { deployments } from "./deployments.ts";
import { approvalStatusEnum } from "./enums.ts";

export const approvals = pgTable("approvals", {
  deploymentId: text("deployment_id")
    .primaryKey()
    .references(() => deployments.id, { onDelete: "cascade" }),
  status: approvalStatusEnum("status").notNull().default("pending"),
  requestedBy: text("requested_by").notNull(),
  decidedBy: text("decided_by"),
  reason: text("reason"),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  decidedAt: timestamp("decided_at", { withTimezone: true }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
