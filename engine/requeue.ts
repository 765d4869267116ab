import { inLineStatuses, openDeployments } from "../db/queries/deployments.ts";
import type { EngineApiDeps } from "./context.ts";
import { abandonDeployment } from "./pipeline/run.ts";

/**
 * Deployments recorded as queued or running whose job cannot carry them any more: a job that is
 * gone (Redis restarted without persistence, or the enqueue after the insert failed) is enqueued
 * again; a job BullMQ finished or failed while the row stayed open is ended (abandonDeployment).
 * Runs when a worker starts and on the beat.
 */
export async function requeueOrphans(deps: EngineApiDeps): Promise<number> {
  const open = await openDeployments(deps.db, inLineStatuses);
  let n = 0;
  for (const { id } of open) {
    const job = await deps.queues.deployments.getJob(id);
    if (!job) {
      await deps.queues.enqueueDeployment(id);
      n++;
      continue;
    }
    const state = await job.getState();
    if (state === "failed" || state === "completed") {
      await abandonDeployment(deps, id, `its job ${state} without ending it`);
      n++;
    }
  }
  return n;
}

