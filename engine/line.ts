import { firstQueued, takeTurnInLine, type Turn } from "../db/queries/deployments.ts";
import type { DeploymentRow } from "../db/schema/index.ts";
import type { EngineApiDeps } from "./context.ts";

/**
 * One deployment per app+env at a time, in request order: the line. A deployment takes its turn
 * when nothing of its app+env runs and nothing queued before it waits; whoever ends (succeeds,
 * fails, is cancelled) promotes the next. The API asks who is in line (db/queries/deployments.ts
 * `deploymentsInLine`, read as the request is recorded); the pipeline takes turns.
 */

export type { Turn };

/** How long a deployment waiting its turn sleeps before looking again, unless promoted sooner. */
export const TURN_RECHECK_MS = 3_000;

/**
 * Whether it is this deployment's turn, and if so, marks it running, in one transaction holding
 * the line lock (db/queries/deployments.ts `takeTurnInLine`). "gone": it was cancelled meanwhile.
 */
export async function takeTurn(deps: Pick<EngineApiDeps, "db">, d: DeploymentRow): Promise<Turn> {
  return takeTurnInLine(deps.db, d);
}

/** Wakes the next deployment in an app+env's line, if it is waiting (a delayed job). */
export async function promoteNext(deps: Pick<EngineApiDeps, "db" | "queues">, app: string, env: string): Promise<void> {
  const next = await firstQueued(deps.db, app, env);
  if (next) await deps.queues.promote(next);
}
