ALTER TABLE "hosts" ADD COLUMN "busy_ports" integer[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "ports_checked_at" timestamp with time zone;