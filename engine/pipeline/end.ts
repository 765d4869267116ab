import { deploymentById } from "../../db/queries/deployments.ts";
import { openDeploymentStatuses, type DeploymentStatus } from "../../db/schema/enums.ts";
import type { EngineApiDeps } from "../context.ts";
import { withRedisLockIfFree } from "../locks.ts";

/** The claim on ending one deployment. */
export const endingKey = (prefix: string, id: string) => `${prefix}lock:ending:${id}`;

/** What a caller that did not get to end a deployment learns: who had it, as far as the row says. */
export interface EndedElsewhere {
  ended: false;
  /** The deployment's status when this caller gave up: final, or still open while the other ends it. */
  status: DeploymentStatus;
}

/**
 * Runs `end` (compensate if need be, then write the verdict) only if this caller is the one that
 * ends deployment `id`. Several may try at once: the pipeline on a step's failure or at its end,
 * a cancel at a step boundary, the beat's expire job for a stuck deployment, a worker that takes
 * over after a crash (abandonDeployment). The first to claim it (a Redis lease, released when
 * `end` returns or throws, so a caller that fails leaves it to the next) and find it still open
 * runs `end`; every other caller does nothing visible, logs why, and gets `{ ended: false }`.
 * The final status itself is written by a conditional UPDATE (endDeploymentWhileOpen): a verdict is
 * said once even if the lease was lost (a Redis restart).
 */
export async function endOnce<T>(deps: EngineApiDeps, id: string, who: string, end: () => Promise<T>): Promise<{ ended: true; value: T } | EndedElsewhere> {
  let status: DeploymentStatus | undefined;
  const r = await withRedisLockIfFree(deps.redis, endingKey(deps.prefix, id), async () => {
    // Read under the claim: another may have ended it and let go between our last look and now.
    status = (await deploymentById(deps.db, id))?.status;
    if (!status || !(openDeploymentStatuses as readonly string[]).includes(status)) return { ran: false as const };
    return { ran: true as const, value: await end() };
  }, { ttlMs: 30_000 });
  if (r.held && r.value.ran) return { ended: true, value: r.value.value };
  status ??= (await deploymentById(deps.db, id))?.status ?? "failed";
  deps.logger.warn({ deploymentId: id, by: who, status, recovery: "ended-elsewhere" }, `${who} left deployment ${id} alone: ${r.held ? `it had already ended (${status})` : "another is ending it"}`);
  return { ended: false, status };
}
