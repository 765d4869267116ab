import type { Db } from "../client.ts";
import { deploymentEvents } from "../schema/index.ts";

/** Appends one event to a deployment's history (already redacted by the caller: engine/events.ts `emit`). */
export async function recordEvent(db: Db, deploymentId: string, type: string, data: Record<string, unknown>): Promise<void> {
  await db.insert(deploymentEvents).values({ deploymentId, type, data });
}
