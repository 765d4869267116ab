import { claimBeatRun, finishBeatRun } from "../../db/queries/beat-runs.ts";
import type { BeatJobName } from "../../playbooks/types.ts";
import type { EngineApiDeps } from "../context.ts";
import type { JobData } from "../queues.ts";
import { beatJobs } from "./jobs.ts";

/** What a job did: `idle` when it found nothing to do (it then said nothing in chat). */
export interface BeatJobResult {
  outcome: "done" | "idle";
  detail: Record<string, unknown>;
}

/** One maintenance job: reads the fleet, repairs what needs it, reports in chat only when it acted. */
export type BeatJob = (deps: EngineApiDeps, tick: { scheduledFor: Date }) => Promise<BeatJobResult>;

export type BeatRunOutcome = { ran: false; reason: "already_run" } | { ran: true; outcome: "done" | "idle" | "failed"; detail: Record<string, unknown> };

/**
 * The `maintenance` queue's processor: claims the tick in beat_runs (the unique job + scheduled
 * time makes a second claim of the same tick find it taken), runs the job, records how it ended.
 * A job's failure is recorded, not retried: the next tick runs it again.
 */
export async function runMaintenance(deps: EngineApiDeps, data: JobData<"maintenance">): Promise<BeatRunOutcome> {
  const job = data.job as BeatJobName;
  const scheduledFor = new Date(data.scheduledFor);
  const claim = await claimBeatRun(deps.db, job, scheduledFor);
  if (claim === undefined) return { ran: false, reason: "already_run" };
  let outcome: "done" | "idle" | "failed";
  let detail: Record<string, unknown>;
  try {
    const run = beatJobs[job];
    if (!run) throw new Error(`there is no beat job named ${job}`);
    const r = await run(deps, { scheduledFor });
    outcome = r.outcome;
    detail = r.detail;
  } catch (err) {
    outcome = "failed";
    detail = { error: (err as Error).message };
    deps.logger.warn({ job, err: (err as Error).message }, "beat job failed");
  }
  // What the beat repaired or ended (reconcile's repair deployments, expired approvals and locks,
  // stuck deployments failed, lost jobs requeued, hosts marked down, orphans removed) is a recovery.
  if (outcome === "done") deps.logger.info({ job, scheduledFor: data.scheduledFor, recovery: `beat.${job}`, detail }, `beat ${job} acted`);
  await finishBeatRun(deps.db, claim, outcome, detail);
  deps.metrics?.beatRuns.inc({ job, outcome });
  return { ran: true, outcome, detail };
}
