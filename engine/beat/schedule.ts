import cron, { type ScheduledTask } from "node-cron";
import type { BeatJobName, BeatSettings } from "../../playbooks/types.ts";
import { beatJobNames } from "../../playbooks/schema/beat.ts";
import type { EngineApiDeps } from "../context.ts";
import { expireJob } from "./expire.ts";
import { LeaderLease } from "./lease.ts";

/** How long a leader's lease lasts without renewal; another beat takes over within this. Default 15 s. */
export const DEFAULT_LEASE_MS = 15_000;

export interface BeatOptions {
  /** Lease period in ms (DEFAULT_LEASE_MS). Candidates try, and the leader renews, every third of it. */
  leaseMs?: number;
  /** Told of every tick this beat enqueued (tests, logs). */
  onEnqueue?: (job: BeatJobName, scheduledFor: Date, jobId: string) => void;
}

export interface RunningBeat {
  isLeader(): boolean;
  lease: LeaderLease;
  /** Stops the schedule and hands the lease over. */
  close(): Promise<void>;
}

/** The jobs that are scheduled: every one with settings (digest only when configured). */
export function scheduledJobs(beat: BeatSettings): { job: BeatJobName; schedule: string }[] {
  return beatJobNames.flatMap((job) => {
    const s = beat[job];
    return s ? [{ job, schedule: s.schedule }] : [];
  });
}

/** The next time `schedule` fires after now (node-cron's own matcher), or undefined. */
export function nextRunOf(schedule: string): Date | undefined {
  const task = cron.createTask(schedule, () => undefined);
  try {
    // A task that is not started has no next run; getNextRuns asks the matcher directly.
    return task.getNextRuns(1)[0];
  } finally {
    void task.destroy();
  }
}

export const leaseKey = (prefix: string) => `${prefix}beat:leader`;

/**
 * `raptor beat`: schedules every job with node-cron and, while this process holds the leader
 * lease, enqueues each tick on the `maintenance` queue. Every beat process runs the same schedule;
 * only the leader enqueues, and a tick's job id (`<job>@<scheduled time>`) makes a tick enqueued
 * twice (two leaders for a moment) run once. Workers run the jobs (engine/beat/run.ts).
 */
export async function startBeat(deps: EngineApiDeps, opts: BeatOptions = {}): Promise<RunningBeat> {
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const lease = new LeaderLease(deps.redis, leaseKey(deps.prefix), leaseMs);
  const wasLeader = { value: false };
  const campaign = async () => {
    const leader = await lease.attempt();
    if (leader !== wasLeader.value) deps.logger.info({ holder: lease.holder }, leader ? "beat: this process leads" : "beat: this process follows");
    wasLeader.value = leader;
  };
  await campaign();
  const timer = setInterval(() => void campaign(), Math.max(100, Math.floor(leaseMs / 3)));
  const tasks: ScheduledTask[] = [];
  for (const { job, schedule } of scheduledJobs(deps.playbook.beat)) {
    const task = cron.schedule(
      schedule,
      async (ctx) => {
        if (!lease.isLeader()) return;
        try {
          const jobId = await deps.queues.enqueueMaintenance(job, ctx.date);
          deps.metrics?.beatTicks.inc({ job });
          opts.onEnqueue?.(job, ctx.date, jobId);
        } catch (err) {
          deps.logger.warn({ job, err: (err as Error).message }, "beat: could not enqueue a tick");
        }
      },
      { name: `raptor-${job}`, noOverlap: true, suppressMissedWarning: true },
    );
    tasks.push(task);
  }
  return {
    isLeader: () => lease.isLeader(),
    lease,
    async close() {
      clearInterval(timer);
      for (const t of tasks) await t.destroy();
      await lease.release();
    },
  };
}

/** How often a `say` process that runs its own worker runs the expire job (SAY_EXPIRE_MS). */
export const SAY_EXPIRE_MS = 30_000;

/**
 * The one beat job a `raptor say` that runs its own worker needs: expire, every `everyMs`, so a
 * deployment it follows that nobody approves still ends. Not the rest of the beat (a one-off
 * command should not check hosts or repair the fleet), no lease (nothing else is scheduled), and
 * a failed run is tried again at the next tick. Returns the function that stops it.
 */
export function startSayExpire(deps: EngineApiDeps, everyMs = SAY_EXPIRE_MS): () => void {
  const timer = setInterval(() => void expireJob(deps, { scheduledFor: new Date() }).catch(() => undefined), everyMs);
  return () => clearInterval(timer);
}
