import { Queue, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";

/**
 * The job catalog: each queue's payload schema and retry policy. Enqueue and processor both
 * validate. A deployment's id is its BullMQ jobId, so enqueueing it twice is a no-op.
 */
export const jobCatalog = {
  deployments: {
    schema: z.object({ deploymentId: z.string().regex(/^d-[a-z0-9]{4,32}$/) }),
    options: {
      // A step that failed for a transient reason is retried; a failed deployment is not
      // (UnrecoverableError), since its failure is already compensated and reported.
      attempts: 3,
      backoff: { type: "exponential", delay: 2_000 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    } satisfies JobsOptions,
  },
} as const;

export type QueueName = keyof typeof jobCatalog;
export type JobData<Q extends QueueName> = z.infer<(typeof jobCatalog)[Q]["schema"]>;

/** BullMQ keys live under the same prefix as the rest of Raptor's keys. */
export const bullPrefix = (prefix: string) => `${prefix}bull`;

export function bullConnection(redisUrl: string): Redis {
  // BullMQ's blocking commands require maxRetriesPerRequest: null.
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

export class Queues {
  readonly deployments: Queue;
  private readonly conn: Redis;

  constructor(redisUrl: string, prefix: string) {
    this.conn = bullConnection(redisUrl);
    this.deployments = new Queue("deployments", { connection: this.conn, prefix: bullPrefix(prefix) });
  }

  async enqueueDeployment(deploymentId: string, opts: { delayMs?: number } = {}): Promise<void> {
    const data = jobCatalog.deployments.schema.parse({ deploymentId });
    await this.deployments.add("deployment", data, {
      ...jobCatalog.deployments.options,
      jobId: deploymentId,
      delay: opts.delayMs,
    });
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

  async close(): Promise<void> {
    await this.deployments.close();
    await this.conn.quit().catch(() => {});
  }
}
