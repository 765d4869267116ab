CREATE TYPE "public"."approval_status" AS ENUM('pending', 'approved', 'rejected', 'expired');--> statement-breakpoint
CREATE TYPE "public"."build_status" AS ENUM('running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."deployment_kind" AS ENUM('deploy', 'rollback', 'scale', 'restart', 'config');--> statement-breakpoint
CREATE TYPE "public"."deployment_status" AS ENUM('queued', 'awaiting_approval', 'running', 'succeeded', 'failed', 'cancelled', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."proc_status" AS ENUM('starting', 'running', 'routed', 'draining', 'stopped', 'failed');--> statement-breakpoint
CREATE TYPE "public"."step_status" AS ENUM('pending', 'running', 'succeeded', 'failed', 'skipped');--> statement-breakpoint
CREATE TABLE "builds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"app" text NOT NULL,
	"commit" text NOT NULL,
	"buildpack" text NOT NULL,
	"detected" text,
	"status" "build_status" DEFAULT 'running' NOT NULL,
	"path" text,
	"md5" text,
	"procfile" jsonb,
	"config_vars" jsonb,
	"log" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "releases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"app" text NOT NULL,
	"env" text NOT NULL,
	"number" integer NOT NULL,
	"build_id" uuid NOT NULL,
	"config" jsonb NOT NULL,
	"settings" jsonb NOT NULL,
	"hash" text NOT NULL,
	"created_by" text NOT NULL,
	"description" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "config_vars" (
	"app" text NOT NULL,
	"env" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "config_vars_app_env_key_pk" PRIMARY KEY("app","env","key")
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"kind" "deployment_kind" NOT NULL,
	"app" text NOT NULL,
	"env" text NOT NULL,
	"status" "deployment_status" DEFAULT 'queued' NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"requested_by" text NOT NULL,
	"origin" text DEFAULT 'terminal' NOT NULL,
	"commit" text,
	"build_id" uuid,
	"from_release_id" uuid,
	"to_release_id" uuid,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"error_code" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "deployment_steps" (
	"deployment_id" text NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	"status" "step_status" DEFAULT 'pending' NOT NULL,
	"result" jsonb,
	"error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "deployment_steps_deployment_id_name_pk" PRIMARY KEY("deployment_id","name")
);
--> statement-breakpoint
CREATE TABLE "deployment_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"deployment_id" text NOT NULL,
	"type" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"app" text NOT NULL,
	"env" text NOT NULL,
	"proc_type" text NOT NULL,
	"release_id" uuid NOT NULL,
	"deployment_id" text,
	"host" text NOT NULL,
	"port" integer,
	"name" text NOT NULL,
	"status" "proc_status" DEFAULT 'starting' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "uptest_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"proc_id" uuid NOT NULL,
	"deployment_id" text,
	"name" text NOT NULL,
	"passed" boolean NOT NULL,
	"output" text NOT NULL,
	"exit_code" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hosts" (
	"name" text PRIMARY KEY NOT NULL,
	"squad" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"last_seen_at" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "locks" (
	"app" text NOT NULL,
	"env" text NOT NULL,
	"held_by" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "locks_app_env_pk" PRIMARY KEY("app","env")
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"deployment_id" text PRIMARY KEY NOT NULL,
	"status" "approval_status" DEFAULT 'pending' NOT NULL,
	"requested_by" text NOT NULL,
	"decided_by" text,
	"reason" text,
	"expires_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"app" text,
	"env" text,
	"deployment_id" text,
	"outcome" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "swarms" (
	"app" text NOT NULL,
	"env" text NOT NULL,
	"proc_type" text NOT NULL,
	"size" integer NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "swarms_app_env_proc_type_pk" PRIMARY KEY("app","env","proc_type")
);
--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_build_id_builds_id_fk" FOREIGN KEY ("build_id") REFERENCES "public"."builds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_build_id_builds_id_fk" FOREIGN KEY ("build_id") REFERENCES "public"."builds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_from_release_id_releases_id_fk" FOREIGN KEY ("from_release_id") REFERENCES "public"."releases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_to_release_id_releases_id_fk" FOREIGN KEY ("to_release_id") REFERENCES "public"."releases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_steps" ADD CONSTRAINT "deployment_steps_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_events" ADD CONSTRAINT "deployment_events_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procs" ADD CONSTRAINT "procs_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "procs" ADD CONSTRAINT "procs_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uptest_results" ADD CONSTRAINT "uptest_results_proc_id_procs_id_fk" FOREIGN KEY ("proc_id") REFERENCES "public"."procs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uptest_results" ADD CONSTRAINT "uptest_results_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "builds_app_commit_buildpack" ON "builds" USING btree ("app","commit","buildpack");--> statement-breakpoint
CREATE UNIQUE INDEX "releases_app_env_number" ON "releases" USING btree ("app","env","number");--> statement-breakpoint
CREATE INDEX "deployments_app_env_seq" ON "deployments" USING btree ("app","env","seq");--> statement-breakpoint
CREATE INDEX "deployment_events_deployment" ON "deployment_events" USING btree ("deployment_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "procs_live_host_port" ON "procs" USING btree ("host","port") WHERE "procs"."removed_at" is null and "procs"."port" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "procs_live_host_name" ON "procs" USING btree ("host","name") WHERE "procs"."removed_at" is null;--> statement-breakpoint
CREATE INDEX "procs_app_env" ON "procs" USING btree ("app","env");--> statement-breakpoint
CREATE INDEX "audit_log_at" ON "audit_log" USING btree ("at");