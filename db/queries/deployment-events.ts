import { asc, eq } from "drizzle-orm";
import type { Db } from "../client.ts";
import { deploymentEvents } from "../schema/index.ts";

/** One row of deployment_events: an engine event as it was emitted (already redacted). */
export type DeploymentEventRow = typeof deploymentEvents.$inferSelect;

/** Appends one event to a deployment's history (already redacted by the caller: engine/events.ts `emit`). */
export async function recordEvent(db: Db, deploymentId: string, type: string, data: Record<string, unknown>): Promise<void> {
  await db.insert(deploymentEvents).values({ deploymentId, type, data });
}

/** A deployment's events in the order they were emitted (the history `show <id>` replays). */
export async function eventsOf(db: Db, deploymentId: string): Promise<DeploymentEventRow[]> {
  return db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, deploymentId)).orderBy(asc(deploymentEvents.id));
}
