import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { EngineApiDeps } from "./context.ts";
import { abandonDeployment, runDeployment } from "./pipeline/run.ts";
import { requeueOrphans } from "./requeue.ts";
import { TURN_RECHECK_MS } from "./line.ts";
import { canRetry, toEngineError } from "./errors.ts";
import { runBuildJob, startOnHost } from "./host-work.ts";
import { readHost } from "./host-reads.ts";
import { runMaintenance } from "./beat/run.ts";
import { isRedisConnectionError } from "../lib/redis-watch.ts";
import { bullConnection, bullPrefix, encodeJobError, jobCatalog } from "./queues.ts";
import { lastKnownRedactor, redactError, redactorFor } from "./redact.ts";
import { observeWait } from "./metrics.ts";
import type { Queues } from "./queues.ts";

/** Builds are CPU-heavy (buildpacks); a host's proc work is mostly waiting on SSH. */
const BUILD_CONCURRENCY = 2;
/**
 * Per-host start jobs at once, per deployment slot: a deployment's start step waits on one job per
 * host, so fewer would make deployments queue behind each other's hosts. The hosts themselves are
 * protected by the per-host limit on remote operations (HostCache.opsPerHost).
 */
const PROC_JOBS_PER_DEPLOYMENT = 2;
/** Live reads for the bot are short and mostly waiting on supervisord. */
const READ_CONCURRENCY = 8;
/** Beat jobs of different kinds may run at once (hosts while reconcile waits on a slow host). */
const MAINTENANCE_CONCURRENCY = 3;

/** The BullMQ worker name of a `raptor say` process's worker (CLIENT SETNAME and each job's processedBy). */
export const SAY_WORKER_NAME = "raptor-say";

/**
 * What a `raptor say` process's own worker may take (issue 11: a say's full worker took `make
 * run`'s jobs, the beat's reconcile and hosts among them, with say's environment): live reads
 * always; with `deploymentId`, that deployment's deployment, build and proc jobs and no other's
 * (handed back, delayed, for another worker). Never maintenance jobs, and orphans are not requeued.
 */
export interface SayScope {
  deploymentId?: string;
}

/** How long a job a say worker handed back waits before any worker may take it again, ms. */
const HANDED_BACK_MS = 1_000;

/**
 * Whether a worker other than a `raptor say` one (`raptor all`, `raptor worker`, `make run`) is
 * connected to this Raptor's deployments queue (same Redis and prefix), from BullMQ's
 * Queue.getWorkers (Redis CLIENT LIST). A Redis that refuses CLIENT LIST answers undefined: unknown.
 */
export async function otherWorkersAlive(queues: Queues): Promise<boolean | undefined> {
  const clients = await queues.deployments.getWorkers();
  // BullMQ's stand-in entry when the server refuses CLIENT LIST (managed Redis).
  if (clients.some((c) => !c.rawname)) return undefined;
  return clients.some((c) => !String(c.rawname).endsWith(`:w:${SAY_WORKER_NAME}`));
}

/**
 * The `raptor worker` side: BullMQ workers on the deployments, builds, procs and maintenance queues. A worker
 * killed mid-job is noticed by BullMQ's stalled-job check (lockDuration) and the job runs again
 * here or on another worker, resuming from the checkpoint. With `say` (SayScope): the narrow worker
 * of a `raptor say` run while no other worker is alive. `name` (no spaces; Redis CLIENT SETNAME) is
 * kept on each job it takes as processedBy, so a job tells which process ran it.
 */
export async function startWorker(deps: EngineApiDeps, opts: { say?: SayScope; name?: string } = {}): Promise<{ close(): Promise<void>; worker: Worker }> {
  const { say } = opts;
  const conn = bullConnection(deps.redisUrl, deps.logger);
  const name = say ? SAY_WORKER_NAME : opts.name;
  const common = {
    ...(name ? { name } : {}),
    connection: conn,
    prefix: bullPrefix(deps.prefix),
    lockDuration: deps.options.lockDurationMs,
    stalledInterval: Math.max(1_000, Math.floor(deps.options.lockDurationMs / 2)),
    maxStalledCount: 5,
  };
  // Whatever a job throws is kept by BullMQ (failedReason, stacktrace) for days: redacted over
  // every app's secrets first, class and code kept (UnrecoverableError stays unrecoverable).
  const clean = async (err: unknown) => redactError(err, await redactorFor(deps).catch(() => lastKnownRedactor(deps)));
  // Failures cross Redis as JSON carrying the engine error code, so the waiting step rethrows
  // the same code (a build failure stays `build_failed`, a host stays `host_unreachable`).
  // A say worker hands another deployment's job back (delayed) unrun, for the worker that owns it.
  const notOurs = async (job: Job, token: string | undefined): Promise<boolean> => {
    if (!say || (job.data as { deploymentId?: string }).deploymentId === say.deploymentId) return false;
    await job.moveToDelayed(Date.now() + HANDED_BACK_MS, token);
    return true;
  };
  const handBack = () => Promise.reject(new DelayedError());
  // Every job of every queue runs on the live playbook (issue 9 item 4): a squad or app added while
  // this worker runs is known to its next job, whichever queue it comes from. The reads queue once
  // skipped this and answered `hosts check <new squad>` with "there is no squad" (red team M5).
  const live = <A extends unknown[], R>(processor: (job: Job, ...rest: A) => Promise<R>) => async (job: Job, ...rest: A): Promise<R> => {
    await deps.refreshPlaybook?.();
    return processor(job, ...rest);
  };
  // A say worker with no deployment of its own answers live reads only.
  const deploymentWork = !say || say.deploymentId !== undefined;
  const helpers: Worker[] = !deploymentWork ? [] : [
    new Worker(
      "builds",
      live(async (job: Job, token?: string) => (await notOurs(job, token)) ? handBack() : (observeWait(deps.metrics, "builds", job), runBuildJob(deps, jobCatalog.builds.schema.parse(job.data)).catch(async (err) => Promise.reject(encodeJobError(await clean(err)))))),
      { ...common, concurrency: BUILD_CONCURRENCY },
    ),
    new Worker(
      "procs",
      live(async (job: Job, token?: string) => (await notOurs(job, token)) ? handBack() : (observeWait(deps.metrics, "procs", job), startOnHost(deps, jobCatalog.procs.schema.parse(job.data)).catch(async (err) => Promise.reject(encodeJobError(await clean(err)))))),
      { ...common, concurrency: Math.max(8, deps.options.concurrency * PROC_JOBS_PER_DEPLOYMENT) },
    ),
  ];
  helpers.push(
    new Worker(
      "reads",
      live(async (job: Job) => (observeWait(deps.metrics, "reads", job), readHost(deps, jobCatalog.reads.schema.parse(job.data)).catch(async (err) => Promise.reject(encodeJobError(await clean(err)))))),
      { ...common, concurrency: READ_CONCURRENCY },
    ),
  );
  if (!say) helpers.push(new Worker("maintenance", live(async (job: Job) => (observeWait(deps.metrics, "maintenance", job), runMaintenance(deps, jobCatalog.maintenance.schema.parse(job.data)))), { ...common, concurrency: MAINTENANCE_CONCURRENCY }));
  // Redis being down is reported once by watchRedis on the connection, not once per reconnect here.
  for (const w of helpers) w.on("error", (err) => isRedisConnectionError(err) || deps.logger.error({ err: err.message, queue: w.name }, "worker error"));
  const worker = new Worker(
    "deployments",
    live(async (job: Job, token?: string) => {
      if (await notOurs(job, token)) throw new DelayedError();
      const { deploymentId } = jobCatalog.deployments.schema.parse(job.data);
      // Once per deployment: a job parked for its turn comes back with attempts it already made.
      if (job.attemptsMade === 0 && job.attemptsStarted <= 1) observeWait(deps.metrics, "deployments", job);
      const attempts = job.opts.attempts ?? 1;
      const finalAttempt = job.attemptsMade + 1 >= attempts;
      let outcome;
      try {
        // Renewing the lock doubles as the check that this worker still owns the job.
        const stillOwner = async () => token !== undefined && (await job.extendLock(token, deps.options.lockDurationMs).catch(() => 0)) === 1;
        outcome = await runDeployment(deps, deploymentId, { finalAttempt, stillOwner });
      } catch (err) {
        // Outside any step (Redis or Postgres gone mid-write): retry; on the last attempt, or when
        // no retry can help (the deployment is gone, bad data), end it.
        const retry = canRetry(toEngineError(err));
        if (!finalAttempt && retry) throw await clean(err);
        await abandonDeployment(deps, deploymentId, (err as Error).message);
        if (!retry) throw new UnrecoverableError(((await clean(err)) as Error).message);
        return { status: "failed" };
      }
      if (outcome.kind === "wait") {
        // Not its turn: park the job; the deployment ahead promotes it when it ends.
        await job.moveToDelayed(Date.now() + TURN_RECHECK_MS, token);
        throw new DelayedError();
      }
      if (outcome.kind === "retry") throw await clean(outcome.error);
      if (outcome.kind === "lost") {
        deps.logger.warn({ deploymentId }, "lost the job to another worker; stopped at a step boundary");
        return { status: "lost" };
      }
      return { status: outcome.status };
    }),
    // Reads only: the deployments worker exists (callers hold it) but never runs.
    { ...common, concurrency: deps.options.concurrency, autorun: deploymentWork },
  );
  worker.on("failed", (job, err) => {
    if (err instanceof UnrecoverableError || err instanceof DelayedError || !job) return;
    deps.logger.warn({ job: job.id, err: err.message }, "deployment job attempt failed");
    // BullMQ gave up (attempts used, or stalled too often): the deployment must still end.
    if (job.attemptsMade >= (job.opts.attempts ?? 1) || /stalled/i.test(err.message)) {
      const id = (job.data as { deploymentId?: string }).deploymentId;
      if (id) void abandonDeployment(deps, id, err.message).catch((e) => deps.logger.error({ id, err: (e as Error).message }, "could not end an abandoned deployment"));
    }
  });
  worker.on("error", (err) => isRedisConnectionError(err) || deps.logger.error({ err: err.message }, "worker error"));
  await Promise.all([worker, ...helpers].map((w) => w.waitUntilReady()));
  if (!say) await requeueOrphans(deps);
  return {
    worker,
    async close() {
      await Promise.all([worker, ...helpers].map((w) => w.close()));
      await conn.quit().catch(() => {});
    },
  };
}

export { requeueOrphans };
