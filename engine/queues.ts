import { createHash, randomUUID } from "node:crypto";
import { Queue, QueueEvents, UnrecoverableError, type Job, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";
import { beatJobNames } from "../playbooks/schema/beat.ts";
import { isErrorCode } from "../lib/error-codes.ts";
import { COMMIT_SHA } from "../lib/names.ts";
import { canRetry, EngineError, toEngineError } from "./errors.ts";
import { Coalescer } from "../lib/coalesce.ts";
import { errorFields, silentLogger, type Logger } from "../lib/logger.ts";
import { isRedisConnectionError, watchRedis } from "../lib/redis-watch.ts";

const deploymentId = z.string().regex(/^d-[a-z0-9]{4,32}$/);

/**
 * The job catalog: each queue's payload schema and retry policy. Enqueue and processor both
 * validate. Job ids make enqueueing idempotent: a deployment's id is its jobId, a build's is its
 * key, a host's share of a deployment step is (deployment, action, host).
 */
export const jobCatalog = {
  deployments: {
    schema: z.object({ deploymentId }),
    options: {
      // A step that failed for a transient reason is retried; a failed deployment is not,
      // since its failure is already compensated and reported.
      attempts: 3,
      backoff: { type: "exponential", delay: 2_000 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    } satisfies JobsOptions,
  },
  builds: {
    schema: z.object({ deploymentId, app: z.string(), repo: z.string(), commit: z.string().regex(COMMIT_SHA), buildpack: z.string().optional() }),
    options: {
      attempts: 1,
      removeOnComplete: { age: 3600, count: 200 },
      // Kept for a look; a deployment that retries removes its failed job first (addAndWait).
      removeOnFail: { age: 24 * 3600, count: 200 },
    } satisfies JobsOptions,
  },
  procs: {
    schema: z.object({ deploymentId, host: z.string(), action: z.enum(["start"]) }),
    options: {
      attempts: 2,
      backoff: { type: "fixed", delay: 1_000 },
      removeOnComplete: { age: 3600, count: 2000 },
      removeOnFail: { age: 24 * 3600, count: 2000 },
    } satisfies JobsOptions,
  },
  maintenance: {
    // One tick of one beat job. Its jobId (maintenanceJobId) makes a second enqueue of the same
    // tick a no-op, so two beat leaders never run one tick twice.
    schema: z.object({
      job: z.enum(beatJobNames),
      scheduledFor: z.string().datetime(),
    }),
    options: {
      // A failed run is recorded (beat_runs) and the next tick tries again; no retries.
      attempts: 1,
      // Kept a day: the job id must outlive every beat's chance to enqueue the same tick again.
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    } satisfies JobsOptions,
  },
  reads: {
    // A live read of one host's supervisord for the bot (status, ps, logs, hosts check): the bot
    // holds no host credentials, so a worker reads and the bot awaits the result with a timeout.
    schema: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("states"), squad: z.string(), host: z.string() }),
      z.object({ kind: z.literal("logs"), squad: z.string(), host: z.string(), names: z.array(z.string()).max(50), bytes: z.number().int().positive().max(1_000_000) }),
      z.object({ kind: z.literal("pool"), balancer: z.string(), pool: z.string() }),
      // `hosts check` of one host (engine/host-checks/): SSH, root, upload, supervisord, ports, user.
      z.object({ kind: z.literal("check"), squad: z.string(), host: z.string() }),
      // The commits between what serves and what would serve (`plan`), from the worker's git mirror.
      z.object({ kind: z.literal("commits"), app: z.string(), from: z.string().regex(COMMIT_SHA).optional(), to: z.string().min(1).max(200) }),
    ]),
    options: {
      // The person asked now: a read that failed is answered as such, not retried.
      attempts: 1,
      removeOnComplete: { age: 600, count: 500 },
      removeOnFail: { age: 3600, count: 500 },
    } satisfies JobsOptions,
  },
} as const;

export type QueueName = keyof typeof jobCatalog;

/**
 * `<job>@<scheduled time, ISO 8601 basic format>`, e.g. `reconcile@20261129T210530Z`. BullMQ refuses
 * ids with `:` (ISO's extended format has two), so the basic format, which has none, is used.
 */
export function maintenanceJobId(job: string, scheduledFor: Date): string {
  return `${job}@${scheduledFor.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z")}`;
}

export type JobData<Q extends QueueName> = z.infer<(typeof jobCatalog)[Q]["schema"]>;

export interface BuildJobResult {
  buildId: string;
  reused: boolean;
  buildpack: string;
  /** The last lines of the compile log (empty when reused). */
  logTail: string[];
}

/** How long an identical live read's answer is shared (issue 14 item 4: coalesce identical reads within a second). */
export const READ_COALESCE_MS = 1_000;

/** BullMQ keys live under the same prefix as the rest of Raptor's keys. */
export const bullPrefix = (prefix: string) => `${prefix}bull`;

/** A connection for BullMQ (whose blocking commands require maxRetriesPerRequest: null); outages logged once to `log`. */
export function bullConnection(redisUrl: string, log: Logger = silentLogger): Redis {
  return watchRedis(new Redis(redisUrl, { maxRetriesPerRequest: null }), log, "bullmq");
}

/** BullMQ job ids may not contain ':'; keys are hashed into a safe, fixed-length id. */
const safeId = (kind: string, key: string) => `${kind}-${createHash("sha1").update(key).digest("hex")}`;

export class Queues {
  readonly deployments: Queue;
  readonly builds: Queue;
  readonly procs: Queue;
  readonly maintenance: Queue;
  readonly reads: Queue;
  private readonly conn: Redis;
  private readonly events = new Map<QueueName, QueueEvents>();
  /** Identical live reads within READ_COALESCE_MS are one job (lib/coalesce.ts). */
  private readonly reading: Coalescer<unknown>;

  /** @param readCoalesceMs how long an identical live read's answer is shared (default 1000 ms; 0: only while in flight). */
  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
    readCoalesceMs = READ_COALESCE_MS,
    private readonly log: Logger = silentLogger,
  ) {
    this.reading = new Coalescer(readCoalesceMs);
    this.conn = bullConnection(redisUrl, log);
    const opts = { connection: this.conn, prefix: bullPrefix(prefix) };
    this.deployments = new Queue("deployments", opts);
    this.builds = new Queue("builds", opts);
    this.procs = new Queue("procs", opts);
    this.maintenance = new Queue("maintenance", opts);
    this.reads = new Queue("reads", opts);
    // BullMQ re-emits its connection's errors on every Queue, and prints them when nobody listens;
    // watchRedis reports an outage once on the connection itself.
    for (const q of [this.deployments, this.builds, this.procs, this.maintenance, this.reads]) q.on("error", (err) => this.reportError(err));
  }

  private reportError(err: unknown): void {
    if (!isRedisConnectionError(err)) this.log.error({ ...errorFields(err) }, "queue error");
  }

  /** Every queue by name (metrics read their depths). */
  all(): Record<QueueName, Queue> {
    return { deployments: this.deployments, builds: this.builds, procs: this.procs, maintenance: this.maintenance, reads: this.reads };
  }

  /** One tick of a beat job; a tick already enqueued (by this beat or another) is not added again. */
  async enqueueMaintenance(job: JobData<"maintenance">["job"], scheduledFor: Date): Promise<string> {
    const data = jobCatalog.maintenance.schema.parse({ job, scheduledFor: scheduledFor.toISOString() });
    const jobId = maintenanceJobId(job, scheduledFor);
    await this.maintenance.add(job, data, { ...jobCatalog.maintenance.options, jobId });
    return jobId;
  }

  async enqueueDeployment(deploymentId: string, opts: { delayMs?: number } = {}): Promise<void> {
    const data = jobCatalog.deployments.schema.parse({ deploymentId });
    await this.deployments.add("deployment", data, { ...jobCatalog.deployments.options, jobId: deploymentId, delay: opts.delayMs });
  }

  /** Wakes a deployment that was waiting its turn (a delayed job), if it is waiting. */
  async promote(deploymentId: string): Promise<void> {
    const job = await this.deployments.getJob(deploymentId);
    if (!job) return;
    try {
      if (await job.isDelayed()) await job.promote();
    } catch {
      // It may have been promoted or started in between; either way it will run.
    }
  }

  /**
   * Builds on whichever worker takes the job, and waits for it. One job per deployment (a resumed
   * deployment finds its own job again); two deployments of the same app + commit + buildpack
   * still build once, because buildOrReuse claims the build row and the second one waits on it.
   */
  async build(data: JobData<"builds">): Promise<BuildJobResult> {
    const parsed = jobCatalog.builds.schema.parse(data);
    const jobId = safeId("build", parsed.deploymentId);
    return this.addAndWait<BuildJobResult>("builds", this.builds, "build", parsed, jobCatalog.builds.options, jobId);
  }

  /**
   * Asks a worker to read one host live (a `reads` job) and waits up to `timeoutMs` for the
   * answer. Throws EngineError host_unreachable naming the host when no answer came in time (no
   * worker took it, or the host hung), and the read's own error when it failed. The same read
   * asked again while one is in flight, or within the coalescing window after it answered, gets
   * that answer: a thousand `status` in a second cost one read of each host.
   */
  read<R>(data: JobData<"reads">, timeoutMs: number): Promise<R> {
    const parsed = jobCatalog.reads.schema.parse(data);
    return this.reading.get(JSON.stringify(parsed), () => this.readOnce(parsed, timeoutMs)) as Promise<R>;
  }

  /** Live reads that became jobs (the others shared one). */
  get readJobs(): number {
    return this.reading.loadCount;
  }

  private async readOnce<R>(parsed: JobData<"reads">, timeoutMs: number): Promise<R> {
    const events = await this.queueEvents("reads");
    const job: Job = await this.reads.add(parsed.kind, parsed, { ...jobCatalog.reads.options, jobId: `read-${randomUUID()}` });
    try {
      return (await job.waitUntilFinished(events, timeoutMs)) as R;
    } catch (err) {
      if (/timed out before finishing/i.test((err as Error).message)) {
        // Nobody will want the answer: drop the job unless a worker already holds it.
        await job.remove().catch(() => {});
        if (parsed.kind === "commits") throw new EngineError("internal", `no worker answered with ${parsed.app}'s commits in ${timeoutMs / 1000}s`);
        const who = parsed.kind === "pool" ? `balancer ${parsed.balancer}` : parsed.host;
        throw new EngineError(parsed.kind === "pool" ? "balancer_failed" : "host_unreachable", `${who} did not answer in ${timeoutMs / 1000}s`, parsed.kind === "pool" ? {} : { host: parsed.host });
      }
      throw decodeJobError(err);
    }
  }

  /** Each host's share of a step runs as its own job (any worker may take it); waits for all. */
  async hostJobs(deploymentId: string, action: "start", hosts: readonly string[]): Promise<void> {
    const results = await Promise.allSettled(
      hosts.map((host) => {
        const data = jobCatalog.procs.schema.parse({ deploymentId, host, action });
        return this.addAndWait("procs", this.procs, action, data, jobCatalog.procs.options, safeId(action, `${deploymentId}\0${host}`));
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async addAndWait<R>(name: QueueName, queue: Queue, jobName: string, data: object, opts: JobsOptions, jobId: string): Promise<R> {
    const events = await this.queueEvents(name);
    // A failed job of an earlier attempt would answer at once with its old failure: retry afresh.
    const previous = await queue.getJob(jobId);
    if (previous && (await previous.isFailed())) await previous.remove();
    const job: Job = await queue.add(jobName, data, { ...opts, jobId });
    try {
      return (await job.waitUntilFinished(events)) as R;
    } catch (err) {
      // waitUntilFinished rethrows the processor's message only; the processor stored the code.
      throw decodeJobError(err);
    }
  }

  private async queueEvents(name: QueueName): Promise<QueueEvents> {
    let qe = this.events.get(name);
    if (!qe) {
      qe = new QueueEvents(name, { connection: bullConnection(this.redisUrl, this.log), prefix: bullPrefix(this.prefix) });
      qe.on("error", (err) => this.reportError(err));
      this.events.set(name, qe);
      await qe.waitUntilReady();
    }
    return qe;
  }

  async close(): Promise<void> {
    for (const qe of this.events.values()) await qe.close().catch(() => {});
    await Promise.all([this.deployments.close(), this.builds.close(), this.procs.close(), this.maintenance.close(), this.reads.close()]);
    await this.conn.quit().catch(() => {});
  }
}

/**
 * A job's failure crosses Redis as a message only. Processors encode the engine error code and
 * output as JSON in the message so the waiting step can rethrow an error with the same code.
 * A failure no retry can fix (errors.ts canRetry) is an UnrecoverableError: BullMQ does not retry it.
 */
export function encodeJobError(err: unknown): Error {
  const e = err as { code?: unknown; message?: unknown; output?: unknown; host?: unknown; retryable?: unknown };
  const message = JSON.stringify({ raptor: true, code: e?.code, message: String(e?.message ?? err), output: e?.output, host: e?.host, retryable: e?.retryable === true });
  return canRetry(toEngineError(err)) ? new Error(message) : new UnrecoverableError(message);
}

export function decodeJobError(err: unknown): Error {
  const message = (err as Error)?.message ?? String(err);
  try {
    const o = JSON.parse(message) as { raptor?: boolean; code?: string; message: string; output?: string; host?: string; retryable?: boolean };
    if (o.raptor) return Object.assign(new Error(o.message), { code: isErrorCode(o.code) ? o.code : "internal", output: o.output, host: o.host, retryable: o.retryable });
  } catch {
    // not one of ours
  }
  return err instanceof Error ? err : new Error(message);
}
