import type { Redis } from "ioredis";
import type { BuildStore } from "./builds/store.ts";
import type { Db } from "../db/client.ts";
import type { Logger } from "../lib/logger.ts";
import type { Queues } from "./queues.ts";
import type { RaptorMetrics } from "./metrics.ts";
import type { Playbook } from "../playbooks/types.ts";
import type { HostCache } from "../runners/host-cache.ts";

/** Tunables with production defaults; tests shorten them. */
export interface EngineOptions {
  /** How long a new proc may take to reach RUNNING with its port open. Default 30 s. */
  startTimeoutMs: number;
  /** Override every environment's drain delay (tests set 0). */
  drainMs?: number;
  /** BullMQ lock duration: a worker silent this long is presumed dead and its job recovered. Default 30 s. */
  lockDurationMs: number;
  /** How long the bot waits for a worker's live read of one host (status, logs). Default 5 s. */
  liveReadTimeoutMs: number;
  /**
   * Deployments processed at once by one worker (`RAPTOR_CONCURRENCY`). Default 16: a deployment
   * mostly waits (on builds, on its hosts, on uptests), using a few ms of the worker's CPU per
   * second (bench/throughput.ts measures it); what a host can take is bounded per host instead
   * (`RAPTOR_HOST_OPS`, runners/host-cache.ts), and builds by their own queue's concurrency.
   */
  concurrency: number;
  /**
   * The build size limit, bytes (`RAPTOR_MAX_BUILD_SIZE`): a checkout or a compiled build larger
   * than this fails the build, naming both sizes (engine/builds/size-limit.ts). Default 1 GiB.
   */
  maxBuildBytes?: number;
}

export const defaultEngineOptions: EngineOptions = {
  startTimeoutMs: 30_000,
  lockDurationMs: 30_000,
  concurrency: 16,
  liveReadTimeoutMs: 5_000,
};

/**
 * The composition root's output: everything the engine touches, passed down explicitly
 * (no module-global clients). Built by bin/raptor from the environment, and by tests.
 */
export interface EngineDeps {
  db: Db;
  /** A plain ioredis connection for events, pools and locks (not a blocking one). */
  redis: Redis;
  /** Prefix for every Redis key and BullMQ queue ("raptor:"); tests use their own. */
  prefix: string;
  /** Redis URL, for the connections BullMQ opens itself. */
  redisUrl: string;
  playbook: Playbook;
  hosts: HostCache;
  /** Where builds, git mirrors and the PGlite database live. */
  dataDir: string;
  /** Where build tarballs are kept for every worker (RAPTOR_BUILD_STORE: a directory, or S3). */
  builds: BuildStore;
  logger: Logger;
  options: EngineOptions;
  /**
   * Picks up playbook edits before a command or job (bin/runtime.ts wires playbooks/live.ts):
   * swaps `playbook` when the files changed and are valid; resolves with the reason the files on
   * disk are not in use when the last edit is broken. Absent: the playbook never changes.
   */
  refreshPlaybook?: () => Promise<string | undefined>;
  now?: () => Date;
  /** Prometheus metrics of this process (engine/metrics.ts); absent: nothing is recorded. */
  metrics?: RaptorMetrics;
}

/** The engine's deps plus the job queues: what the API, the pipeline and the workers run with. */
export type EngineApiDeps = EngineDeps & { queues: Queues };
