/**
 * Raptor's Prometheus metrics (prom-client). One registry per process: `raptor all` runs bot,
 * worker and beat on one registry, served on one port (bin/observe.ts). Nothing here is a module
 * global: the composition root builds a RaptorMetrics and passes it down in EngineDeps; code that
 * runs without one (tests, `raptor say`) records nothing. docs/operations.md lists every metric.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../db/client.ts";
import { allHosts } from "../db/queries/hosts.ts";
import type { Queues, QueueName } from "./queues.ts";
import { createChatMetrics } from "./chat-metrics.ts";

/** Seconds; deploy steps run from milliseconds (route) to minutes (build). */
const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Seconds a job waited in its queue before a worker took it. */
const WAIT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const QUEUE_STATES = ["waiting", "active", "delayed", "prioritized", "failed"] as const;

export interface RaptorMetrics {
  readonly registry: Registry;
  /** raptor_deployments_total{kind, outcome}: deployments ended (outcome: succeeded, failed, cancelled, rejected). */
  readonly deployments: Counter<"kind" | "outcome">;
  /** raptor_deployment_step_duration_seconds{step, outcome}: each step run (outcome: succeeded, failed). */
  readonly stepSeconds: Histogram<"step" | "outcome">;
  /** raptor_queue_wait_seconds{queue}: from a job's enqueue (or its delay's end) to a worker taking it. */
  readonly queueWaitSeconds: Histogram<"queue">;
  /** raptor_slack_ack_duration_seconds: from a Slack request's arrival to the bot's HTTP answer (its ack). */
  readonly slackAckSeconds: Histogram<string>;
  /** raptor_bot_commands_busy_total{limit}: commands refused because the bot was answering its limit (limit: user, overall). */
  readonly commandsBusy: Counter<"limit">;
  /** raptor_beat_ticks_total{job}: beat ticks enqueued by the leader. */
  readonly beatTicks: Counter<"job">;
  /** raptor_beat_runs_total{job, outcome}: maintenance jobs run by workers (outcome: done, idle, failed). */
  readonly beatRuns: Counter<"job" | "outcome">;
  /** Adds the queue depths (raptor_queue_jobs{queue, state}) read from Redis at each scrape. */
  watchQueues(queues: Queues): void;
  /** Adds the hosts by state (raptor_hosts{state}: up, down, unknown) read from the database at each scrape. */
  watchHosts(db: Db): void;
}

/** What createMetrics registers besides Raptor's engine metrics. */
export interface MetricsScope {
  /** Node's process metrics (`process_*`, `nodejs_*`). Default true. */
  processMetrics?: boolean;
  /** The bot's ack-side metrics (engine/chat-metrics.ts). Default true; false records them nowhere served. */
  chatMetrics?: boolean;
}

/**
 * A fresh registry with Raptor's metrics and Node's process metrics (`process_*`, `nodejs_*`).
 * The Slack bot's command thread passes `{ processMetrics: false, chatMetrics: false }`: its
 * acking thread serves those, and /metrics joins the two (bin/slack-ack-thread.ts).
 */
export function createMetrics(scope: MetricsScope = {}): RaptorMetrics {
  const registry = new Registry();
  if (scope.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const queueSources: Queues[] = [];
  const hostSources: Db[] = [];
  new Gauge({
    name: "raptor_queue_jobs",
    help: "Jobs in each BullMQ queue by state, read at scrape time",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      this.reset();
      for (const q of queueSources) {
        for (const [name, queue] of Object.entries(q.all())) {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          for (const s of QUEUE_STATES) this.set({ queue: name, state: s }, counts[s] ?? 0);
        }
      }
    },
  });
  new Gauge({
    name: "raptor_hosts",
    help: "Hosts by the state the beat's hosts job last found (up, down, unknown), read at scrape time",
    labelNames: ["state"],
    registers,
    async collect() {
      this.reset();
      for (const db of hostSources) {
        const counts: Record<string, number> = { up: 0, down: 0, unknown: 0 };
        for (const h of await allHosts(db)) counts[h.state] = (counts[h.state] ?? 0) + 1;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      }
    },
  });
  const chat = createChatMetrics(scope.chatMetrics === false ? [] : registers);
  return {
    registry,
    ...chat,
    deployments: new Counter({ name: "raptor_deployments_total", help: "Deployments ended, by kind and outcome", labelNames: ["kind", "outcome"], registers }),
    stepSeconds: new Histogram({ name: "raptor_deployment_step_duration_seconds", help: "Duration of each deployment step run, by step and outcome", labelNames: ["step", "outcome"], buckets: STEP_BUCKETS, registers }),
    queueWaitSeconds: new Histogram({ name: "raptor_queue_wait_seconds", help: "Time a job waited in its queue before a worker took it", labelNames: ["queue"], buckets: WAIT_BUCKETS, registers }),
    beatTicks: new Counter({ name: "raptor_beat_ticks_total", help: "Beat ticks enqueued by the leader, by job", labelNames: ["job"], registers }),
    beatRuns: new Counter({ name: "raptor_beat_runs_total", help: "Maintenance jobs run, by job and outcome", labelNames: ["job", "outcome"], registers }),
    watchQueues(queues) {
      if (!queueSources.includes(queues)) queueSources.push(queues);
    },
    watchHosts(db) {
      if (!hostSources.includes(db)) hostSources.push(db);
    },
  };
}

/** Records how long a job waited before this worker took it (BullMQ's timestamps, ms since the epoch). */
export function observeWait(metrics: RaptorMetrics | undefined, queue: QueueName, job: { timestamp: number; delay?: number; processedOn?: number }): void {
  if (!metrics) return;
  const ready = job.timestamp + (job.delay ?? 0);
  metrics.queueWaitSeconds.observe({ queue }, Math.max(0, ((job.processedOn ?? Date.now()) - ready) / 1000));
}
