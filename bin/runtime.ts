import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { buildStoreFromEnv } from "../engine/builds/store-config.ts";
import { Redis } from "ioredis";
import { pino } from "pino";
import { openDb, type DbHandle } from "../db/client.ts";
import { checkSealing } from "../db/queries/seal-mark.ts";
import type { EngineApiDeps } from "../engine/context.ts";
import type { Logger } from "../lib/logger.ts";
import { watchRedis } from "../lib/redis-watch.ts";
import { Queues } from "../engine/queues.ts";
import { createMetrics, type MetricsScope } from "../engine/metrics.ts";
import { lastKnownRedactor, redactingLogger } from "../engine/redact.ts";
import { loadPlaybooks } from "../playbooks/load.ts";
import { LivePlaybook, warnPlainWordSecrets } from "../playbooks/live.ts";
import type { RuntimeConfig } from "./config.ts";

export { configFromEnv, defaultPlaybooks, type RuntimeConfig } from "./config.ts";
import { HostCache } from "../runners/host-cache.ts";
import { quiet, type Progress } from "./progress.ts";

/** A URL as progress lines show it: without a password. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:[REDACTED]@");
}
import { keepPrivate, privateFile } from "../lib/private-data.ts";

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
 * slow phase (bin/progress.ts; silent by default). `metricsScope`: what the registry holds besides
 * the engine's metrics (engine/metrics.ts; the bot's command thread leaves out the process and ack ones).
 */
export async function createRuntime(config: RuntimeConfig, logger?: Logger, progress: Progress = quiet, metricsScope?: MetricsScope): Promise<Runtime> {
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
  warnPlainWordSecrets(playbook, log);
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
  const metrics = createMetrics(metricsScope);
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
