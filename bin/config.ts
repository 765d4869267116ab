/**
 * Raptor's settings from the environment (12-factor). Its own module, with no client imports, so
 * the Slack bot's acking thread reads them without loading the engine (bin/runtime.ts builds the
 * clients from them).
 */
import { existsSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { defaultEngineOptions, type EngineOptions } from "../engine/context.ts";
import { demoRedisSocket, demoSupervisorPassword } from "../lib/private-data.ts";
import { DEFAULT_MAX_BUILD_BYTES, parseByteSize } from "../lib/byte-size.ts";

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

/** RAPTOR_MAX_BUILD_SIZE (`2G`, `512M`, bytes); unset: the default. A value that is not a size stops start-up, named. */
function maxBuildBytes(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return DEFAULT_MAX_BUILD_BYTES;
  try {
    return parseByteSize(text);
  } catch (err) {
    throw new Error(`RAPTOR_MAX_BUILD_SIZE: ${(err as Error).message}`);
  }
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
    playbooks: (env.RAPTOR_PLAYBOOKS || defaultPlaybooks()).split(delimiter).filter((d) => d !== "").map((d) => resolve(d)).join(delimiter),
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
      maxBuildBytes: maxBuildBytes(env.RAPTOR_MAX_BUILD_SIZE),
    },
  };
}
