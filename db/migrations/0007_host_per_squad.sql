-- One row per (squad, host): two squads naming the same machine each keep their own state (red team M3).
ALTER TABLE "hosts" DROP CONSTRAINT "hosts_pkey";--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_squad_name_pk" PRIMARY KEY("squad","name");
