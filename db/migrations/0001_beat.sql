CREATE TYPE "public"."beat_outcome" AS ENUM('running', 'done', 'idle', 'failed');--> statement-breakpoint
CREATE TYPE "public"."host_state" AS ENUM('unknown', 'up', 'down');--> statement-breakpoint
ALTER TYPE "public"."deployment_kind" ADD VALUE 'repair';--> statement-breakpoint
CREATE TABLE "beat_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job" text NOT NULL,
	"scheduled_for" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"outcome" "beat_outcome" DEFAULT 'running' NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "pruned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "state" "host_state" DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "state_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "locks" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "beat_runs_job_tick" ON "beat_runs" USING btree ("job","scheduled_for");