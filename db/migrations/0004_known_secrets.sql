CREATE TABLE "known_secrets" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"app" text NOT NULL,
	"env" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "known_secrets_app_env" ON "known_secrets" USING btree ("app","env");