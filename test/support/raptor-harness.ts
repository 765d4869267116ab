import { DirectoryBuildStore } from "../../engine/builds/store-dir.ts";
import type { BuildStore } from "../../engine/builds/store.ts";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { dispatch } from "../../bot/dispatch.ts";
import type { Actor, Authorizer, Reply } from "../../bot/dispatch-types.ts";
import { followThread } from "../../bot/terminal.ts";
import { toPlain } from "../../bot/notify/markup.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import { defaultEngineOptions, type EngineOptions } from "../../engine/context.ts";
import { silentLogger, type Logger } from "../../lib/logger.ts";
import { followDeployment } from "../../engine/events.ts";
import type { EngineEvent } from "../../engine/event-types.ts";
import { Queues } from "../../engine/queues.ts";
import { startWorker } from "../../engine/worker.ts";
import { loadPlaybooks } from "../../playbooks/load.ts";
import { HostCache } from "../../runners/host-cache.ts";
import { openDb } from "../../db/client.ts";
import { watchRedis } from "../../lib/redis-watch.ts";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const SHARED_REDIS_URL = REDIS_URL;

export interface SayResult {
  reply: Reply;
  /** The thread as the terminal prints it. */
  lines: string[];
  /** The deployment's events, in order (empty for queries). */
  events: EngineEvent[];
  final?: EngineEvent;
  /** The text a person reads: reply and thread together. */
  text: string;
}

export interface Harness {
  engine: EngineApiDeps;
  dataDir: string;
  /** Types a command as `actor` (default U_TEST) and follows its deployment to the end. */
  say(text: string, opts?: { actor?: Actor; follow?: boolean }): Promise<SayResult>;
  /** Follows a deployment already requested. */
  follow(deploymentId: string, since?: string): Promise<SayResult>;
  startWorker(): Promise<{ close(): Promise<void> }>;
  /** The environment a separate `bin/raptor worker` process needs to join this harness. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const allowAll: Authorizer = { allowed: async () => true };

/**
 * Raptor on real Postgres (a fresh database), real Redis (a key prefix of its own), a playbook
 * written from `playbookYaml`, and `workers` BullMQ workers in this process.
 */
export async function startHarness(o: {
  playbookYaml: Record<string, string>;
  workers?: number;
  options?: Partial<EngineOptions>;
  authorizer?: Authorizer;
  /** Use this database (migrated here) instead of a fresh clone of the test template (benchmarks run outside vitest). */
  databaseUrl?: string;
  /** Use this Redis instead of the shared one (a test that restarts its own). */
  redisUrl?: string;
  /** What raptor.log would receive (default: nothing, or the console with RAPTOR_TEST_LOG). */
  logger?: Logger;
  /** The engine's build store, given its data dir (default: the directory `<dataDir>/builds`). */
  buildStore?: (dataDir: string) => BuildStore;
}): Promise<Harness> {
  const REDIS_URL = o.redisUrl ?? SHARED_REDIS_URL;
  const dataDir = await mkdtemp(join(tmpdir(), "raptor-e2e-"));
  const pbDir = join(dataDir, "playbooks");
  await import("node:fs/promises").then((fs) => fs.mkdir(pbDir));
  for (const [name, text] of Object.entries(o.playbookYaml)) await writeFile(join(pbDir, name), text);
  const playbook = await loadPlaybooks(pbDir, { ...process.env, RAPTOR_DATA: dataDir });
  const db = o.databaseUrl ? { ...(await openDb({ url: o.databaseUrl })), url: o.databaseUrl } : await (await import("./db.ts")).freshDb();
  const logger = o.logger ?? (process.env.RAPTOR_TEST_LOG ? { ...console, debug() {} } : silentLogger);
  const redis = watchRedis(new Redis(REDIS_URL), logger, "engine");
  const prefix = `t${randomBytes(4).toString("hex")}:`;
  const queues = new Queues(REDIS_URL, prefix);
  const engine: EngineApiDeps = {
    db: db.db,
    redis,
    redisUrl: REDIS_URL,
    prefix,
    playbook,
    hosts: new HostCache(),
    dataDir,
    builds: o.buildStore?.(dataDir) ?? new DirectoryBuildStore(join(dataDir, "builds")),
    logger,
    options: { ...defaultEngineOptions, startTimeoutMs: 15_000, lockDurationMs: 30_000, drainMs: 0, ...o.options },
    queues,
  };
  const workers: { close(): Promise<void> }[] = [];
  for (let i = 0; i < (o.workers ?? 1); i++) workers.push(await startWorker(engine));
  const conns: Redis[] = [];

  const follow = async (deploymentId: string, since?: string): Promise<Omit<SayResult, "reply">> => {
    // Followers keep following through a Redis restart (ioredis reconnects); its errors are expected then.
    const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null }).on("error", () => {});
    conns.push(conn);
    const lines: string[] = [];
    const events: EngineEvent[] = [];
    const tap = new Redis(REDIS_URL, { maxRetriesPerRequest: null }).on("error", () => {});
    conns.push(tap);
    const collecting = followDeployment(tap, prefix, deploymentId, (e) => void events.push(e), { from: since });
    const final = await followThread(conn, prefix, deploymentId, (l) => lines.push(l), { from: since });
    await collecting;
    conn.disconnect();
    tap.disconnect();
    return { lines, events, final, text: lines.join("\n") };
  };

  return {
    engine,
    dataDir,
    env: { DATABASE_URL: db.url, REDIS_URL, RAPTOR_PREFIX: prefix, RAPTOR_PLAYBOOKS: pbDir, RAPTOR_DATA: dataDir, RAPTOR_DRAIN_MS: "0" },
    async say(text, so = {}) {
      const reply = await dispatch({ engine, authorizer: o.authorizer ?? allowAll }, { text, actor: so.actor ?? { id: "U_TEST" }, origin: "terminal" });
      // As the terminal shows it: plain text (answers carry emphasis marks for Slack).
      const head = toPlain(reply.kind === "answer" ? `${reply.title}\n${reply.text}` : reply.text);
      if (reply.kind !== "deployment" || so.follow === false) return { reply, lines: [], events: [], text: head };
      const f = await follow(reply.deploymentId, reply.since);
      return { reply, ...f, text: `${head}\n${f.text}` };
    },
    async follow(deploymentId, since) {
      const f = await follow(deploymentId, since);
      return { reply: { kind: "deployment", deploymentId, text: "" }, ...f };
    },
    async startWorker() {
      const w = await startWorker(engine);
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) await w.close().catch(() => {});
      for (const c of conns) c.disconnect();
      await queues.close();
      await engine.hosts.closeAll();
      const keys = await redis.keys(`${prefix}*`);
      // In chunks: bench/ack leaves a replay-guard key per request (200,000 and more), too many
      // arguments for one call's spread.
      for (let i = 0; i < keys.length; i += 10_000) await redis.del(...keys.slice(i, i + 10_000));
      redis.disconnect();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A Logger that keeps every line (fields and message, as pino would write them) for assertions. */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, ...obj, msg });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** GET http://host:port/path as text, or the error message. */
export async function httpGet(host: string, port: number, path = "/"): Promise<string> {
  try {
    const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(3_000) });
    return await res.text();
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}
