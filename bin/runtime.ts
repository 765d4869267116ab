import { existsSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { buildStoreFromEnv } from "../engine/builds/store-config.ts";
import { Redis } from "ioredis";
import { pino } from "pino";
import { openDb, type DbHandle } from "../db/client.ts";
import { checkSealing } from "../db/queries/seal-mark.ts";
import type { EngineApiDeps } from "../engine/context.ts";
import { defaultEngineOptions, type EngineOptions } from "../engine/context.ts";
import type { Logger } from "../lib/logger.ts";
import { watchRedis } from "../lib/redis-watch.ts";
import { Queues } from "../engine/queues.ts";
import { createMetrics } from "../engine/metrics.ts";
import { lastKnownRedactor, redactingLogger } from "../engine/redact.ts";
import { LivePlaybook } from "../playbooks/live.ts";
import { loadPlaybooks, playbookDirs } from "../playbooks/load.ts";
import { HostCache } from "../runners/host-cache.ts";
import { quiet, type Progress } from "./progress.ts";

/** A URL as progress lines show it: without a password. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:[REDACTED]@");
}
import { demoRedisSocket, demoSupervisorPassword, keepPrivate, privateFile } from "../lib/private-data.ts";

/** Settings from the environment (12-factor); every one has an embedded default. */
export interface RuntimeConfig {
  databaseUrl?: string;
  redisUrl: string;
  playbooks: string;
  dataDir: string;
  prefix: string;
  logFile?: string;
  options: EngineOptions;
  /** RAPTOR_BEAT_LEASE_MS: the beat leader's lease (engine/beat/schedule.ts DEFAULT_LEASE_MS when unset). */
  beatLeaseMs?: number;
  /** RAPTOR_HOST_OPS: remote operations one process runs at once per host (HostCache; default 8). */
  opsPerHost?: number;
}

/**
 * RAPTOR_PLAYBOOKS when unset: the examples, and `playbooks/local` (git-ignored, for one's own
 * apps) when that directory exists, so `make run` and `raptor say` beside it load the same apps.
 */
export function defaultPlaybooks(): string {
  return ["playbooks/examples", ...(existsSync("playbooks/local") ? ["playbooks/local"] : [])].join(delimiter);
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const dataDir = resolve(env.RAPTOR_DATA ?? ".raptor");
  // Playbooks may refer to ${RAPTOR_DATA}; make sure they see the absolute path we use.
  env.RAPTOR_DATA = dataDir;
  // The demo's supervisord password, made by `make run` (scripts/demo.sh) when none was given.
  if (!env.RAPTOR_SUPERVISOR_PASSWORD) {
    const password = demoSupervisorPassword(dataDir);
    if (password) env.RAPTOR_SUPERVISOR_PASSWORD = password;
  }
  const num = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    // Unset: the demo's own Redis when `make run` started one (a unix socket in the 0700 data
    // dir, scripts/demo-redis.sh), else the usual local one.
    redisUrl: env.REDIS_URL ?? demoRedisSocket(dataDir) ?? "redis://127.0.0.1:6379",
    // One directory or several (`a:b`, as in PATH), each made absolute.
    playbooks: playbookDirs(env.RAPTOR_PLAYBOOKS || defaultPlaybooks()).map((d) => resolve(d)).join(delimiter),
    dataDir,
    prefix: env.RAPTOR_PREFIX ?? "raptor:",
    logFile: env.RAPTOR_LOG_FILE,
    opsPerHost: env.RAPTOR_HOST_OPS && /^[1-9]\d*$/.test(env.RAPTOR_HOST_OPS) ? Number(env.RAPTOR_HOST_OPS) : undefined,
    beatLeaseMs: env.RAPTOR_BEAT_LEASE_MS && /^\d+$/.test(env.RAPTOR_BEAT_LEASE_MS) ? Number(env.RAPTOR_BEAT_LEASE_MS) : undefined,
    options: {
      ...defaultEngineOptions,
      startTimeoutMs: num(env.RAPTOR_START_TIMEOUT_MS, defaultEngineOptions.startTimeoutMs),
      lockDurationMs: num(env.RAPTOR_LOCK_DURATION_MS, defaultEngineOptions.lockDurationMs),
      concurrency: num(env.RAPTOR_CONCURRENCY, defaultEngineOptions.concurrency),
      drainMs: env.RAPTOR_DRAIN_MS !== undefined ? num(env.RAPTOR_DRAIN_MS, 0) : undefined,
    },
  };
}

export interface Runtime {
  engine: EngineApiDeps;
  config: RuntimeConfig;
  /** A new Redis connection for blocking reads (followers, consumers). Closed by the caller. */
  redisConnection(): Redis;
  close(): Promise<void>;
}

/**
 * The composition root: builds every client once from the configuration and passes them down.
 * Migrations run here; a failed migration stops start-up with its error. `progress` hears each
 * slow phase (bin/progress.ts; silent by default).
 */
export async function createRuntime(config: RuntimeConfig, logger?: Logger, progress: Progress = quiet): Promise<Runtime> {
  // Raptor's database, log, builds and caches: root's alone (procs run on this machine too).
  keepPrivate(config.dataDir);
  const logFile = config.logFile ?? resolve(config.dataDir, "raptor.log");
  if (!logger) privateFile(logFile);
  const log: Logger =
    logger ??
    pino(
      { level: process.env.LOG_LEVEL ?? "info", redact: ["*.password", "*.token", "*.key"] },
      pino.destination({ dest: logFile, sync: false, mkdir: true, mode: 0o600 }),
    );
  if (!process.env.RAPTOR_SECRET_KEY) {
    // Not an error (the embedded demo runs without one), but an operator must know.
    log.warn({}, "RAPTOR_SECRET_KEY is not set: config values (secrets included) are stored in the database in plain text");
  }
  progress(`reading the playbooks (${config.playbooks})`);
  const live = new LivePlaybook(config.playbooks, (pb) => (engine.playbook = pb), log);
  await live.prime();
  const playbook = await loadPlaybooks(config.playbooks);
  progress(
    config.databaseUrl
      ? "connecting to Postgres (DATABASE_URL) and applying migrations"
      : existsSync(resolve(config.dataDir, "pglite", "PG_VERSION"))
        ? `opening the embedded database in ${resolve(config.dataDir, "pglite")} (PGlite) and applying migrations`
        : `creating the embedded database in ${resolve(config.dataDir, "pglite")} (PGlite; a first start takes up to a minute)`,
  );
  const db: DbHandle = await openDb({ url: config.databaseUrl, dataDir: resolve(config.dataDir, "pglite"), logger: log });
  // Before anything is written: a sealed database takes only a process with its key.
  await checkSealing(db.db).catch(async (err) => {
    await db.close();
    throw err;
  });
  progress(`database ready; connecting to Redis (${redactUrl(config.redisUrl)})`);
  const redis = watchRedis(new Redis(config.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false }), log, "engine");
  const hosts = new HostCache({ opsPerHost: config.opsPerHost });
  const queues = new Queues(config.redisUrl, config.prefix, undefined, log);
  // One registry per process: `raptor all` counts bot, worker and beat together.
  const metrics = createMetrics();
  metrics.watchQueues(queues);
  metrics.watchHosts(db.db);
  const engine: EngineApiDeps = {
    db: db.db,
    redis,
    redisUrl: config.redisUrl,
    prefix: config.prefix,
    playbook,
    hosts,
    dataDir: config.dataDir,
    builds: buildStoreFromEnv(process.env, config.dataDir),
    logger: redactingLogger(log, () => lastKnownRedactor({ db: db.db, playbook: engine.playbook })),
    options: config.options,
    queues,
    refreshPlaybook: () => live.refresh(),
    metrics,
  };
  const extra: Redis[] = [];
  return {
    engine,
    config,
    redisConnection() {
      const r = watchRedis(new Redis(config.redisUrl, { maxRetriesPerRequest: null }), log, "events");
      extra.push(r);
      return r;
    },
    async close() {
      await queues.close();
      await hosts.closeAll();
      for (const r of extra) r.disconnect();
      redis.disconnect();
      await db.close();
    },
  };
}
