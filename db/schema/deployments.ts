import { bigserial, boolean, index, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { builds } from "./builds.ts";
import { deploymentKindEnum, deploymentStatusEnum } from "./enums.ts";
import { releases } from "./releases.ts";
import { sealedJson } from "./sealed.ts";
import type { ErrorCode } from "../../lib/error-codes.ts";

/** Parameters of a deployment, by kind. */
export interface DeploymentParams {
  ref?: string;
  force?: boolean;
  /** rollback: the release number to go back to. */
  release?: number;
  /** scale: proc type -> count. */
  scale?: Record<string, number>;
  /** scale: typed as `scale!`: the person accepted taking a routed proc type to 0. rollback: typed as `rollback!`: to a release that never served. */
  confirmed?: boolean;
  /** restart: only this proc type. */
  proc?: string;
  /** config set: KEY -> value. Values may be secrets: they never leave the database in events. */
  vars?: Record<string, string>;
  /** config secret: the keys of `vars` a person marked secret (masked wherever they appear). */
  secretKeys?: string[];
  /** config unset: keys to remove. */
  keys?: string[];
  /**
   * promote: the release serving `env` when the promote was asked for; its build (same commit,
   * same artifact) is deployed with the target environment's own config, without a rebuild.
   */
  promote?: { env: string; release: number; buildId: string; commit: string };
}

/** One run of the engine for one command. `id` is short and typed by people ("approve d-4f2k9x"). */
export const deployments = pgTable(
  "deployments",
  {
    id: text("id").primaryKey(),
    /** Monotonic request order: deployments of one app+env run in `seq` order. */
    seq: bigserial("seq", { mode: "number" }).notNull(),
    kind: deploymentKindEnum("kind").notNull(),
    app: text("app").notNull(),
    env: text("env").notNull(),
    status: deploymentStatusEnum("status").notNull().default("queued"),
    /** Sealed at rest (config set values are secrets). */
    params: sealedJson<DeploymentParams>()("params").notNull().default({}),
    requestedBy: text("requested_by").notNull(),
    /** Where the request came from, so the thread goes back there: "slack:C123:1700000.0001" or "terminal". */
    origin: text("origin").notNull().default("terminal"),
    commit: text("commit"),
    buildId: uuid("build_id").references(() => builds.id),
    fromReleaseId: uuid("from_release_id").references(() => releases.id),
    toReleaseId: uuid("to_release_id").references(() => releases.id),
    cancelRequested: boolean("cancel_requested").notNull().default(false),
    /** The code of the error that failed it (lib/error-codes.ts), for the digest and history. */
    errorCode: text("error_code").$type<ErrorCode>(),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("deployments_app_env_seq").on(t.app, t.env, t.seq)],
);

/** One row of deployments, as drizzle reads it. */
export type DeploymentRow = typeof deployments.$inferSelect;
