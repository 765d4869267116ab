/**
 * `raptor bot` on Slack, in two threads (issue 14 item 4). This one, the main thread, acks: it
 * receives Slack's requests, checks the replay guard and the signature, admits or refuses
 * ("busy") and acks; every admitted command goes to the command thread (bin/slack-command-thread.ts),
 * which owns the database, the queues and the rest of the engine, answers the command and writes
 * deployment threads. So this thread loads Bolt, ioredis and prom-client, not drizzle or BullMQ,
 * and a burst of commands being answered does not slow the acks of the next ones.
 * `raptor all` runs the bot in one thread (bot/slack/slack-bot.ts): its worker shares that loop anyway.
 */
import { hostname } from "node:os";
import { Redis } from "ioredis";
import { pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { admissionLimitsFromEnv } from "../bot/admission.ts";
import { createSlackApp } from "../bot/slack/app.ts";
import { checkBotToken } from "../bot/slack/check-token.ts";
import { WorkThread, WorkThreadStartError } from "../bot/slack/work-thread.ts";
import { createChatMetrics } from "../engine/chat-metrics.ts";
import { watchRedis } from "../lib/redis-watch.ts";
import { observabilityRoutes, type RouteHandler } from "../lib/observe-http.ts";
import { keepPrivate, privateFile } from "../lib/private-data.ts";
import type { Logger } from "../lib/logger.ts";
import type { ChatThreadData } from "./slack-command-thread.ts";
import type { RuntimeConfig } from "./config.ts";
import { serveOnMetricsPort } from "./metrics-port.ts";
import type { Progress } from "./progress.ts";
import { resolve } from "node:path";

/** RAPTOR_BOT_THREAD_NICE when unset: how many nice steps the command thread runs below the acks. */
export const DEFAULT_THREAD_NICE = 10;

/**
 * The command thread's heap, MB (worker_threads resourceLimits). The bot's RSS counts both
 * threads' heaps. Young generation: V8's default (two 16 MB semi-spaces and more) is paid once per
 * isolate; with it bench/ack's burst peaked at 343-403 MB, with 8 at 237-295 MB. Old generation:
 * an idle worker isolate is not shrunk by V8's memory reducer, and after 11,000 answers its old
 * space held 142 MB of which a heap snapshot found 32 MB live; capped at 96 MB, V8 collects
 * before it grows past that. A thread whose live data passes the cap dies with
 * ERR_WORKER_OUT_OF_MEMORY and is restarted like any dead command thread (bot/slack/work-thread.ts).
 */
export const THREAD_HEAP_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 96 } as const;

/** The command thread's module next to this one: .ts under tsx, .js compiled (scripts/build.sh). */
function chatThreadEntry(): URL {
  return new URL(`./slack-command-thread${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
}

/**
 * /metrics: this thread's registry (process metrics, acks, busy answers) followed by the command
 * thread's (the engine's metrics; it registers neither process nor ack metrics, so no name is
 * served twice). /healthz: Redis and Postgres as the command thread sees them, unhealthy while it
 * is down.
 */
function botRoutes(registry: Registry, work: WorkThread): Record<string, RouteHandler> {
  return observabilityRoutes({
    metrics: {
      registry: {
        contentType: registry.contentType,
        metrics: async () => {
          const [mine, theirs] = await Promise.all([registry.metrics(), work.metricsText()]);
          return theirs ? `${mine.trimEnd()}\n${theirs}` : mine;
        },
      },
    },
    health: () => work.health(),
  });
}

/** Runs the bot until SIGINT/SIGTERM; resolves with the exit code. */
export async function runSlackBot(config: RuntimeConfig, progress: Progress, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    throw new Error("SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is");
  }
  keepPrivate(config.dataDir);
  const logFile = config.logFile ?? resolve(config.dataDir, "raptor.log");
  privateFile(logFile);
  // This thread logs no command text and no config (those are the command thread's, through its
  // redacting logger): Slack's own messages, refusals by the guard, busy answers, thread deaths.
  const log: Logger = pino({ level: env.LOG_LEVEL ?? "info", redact: ["*.password", "*.token", "*.key"] }, pino.destination({ dest: logFile, sync: false, mkdir: true, mode: 0o600 }));
  const botToken = env.SLACK_BOT_TOKEN!;
  const slackApiUrl = env.SLACK_API_URL || undefined;
  // A bad token is one clear line now, before the database opens.
  const who = await checkBotToken(botToken, slackApiUrl);
  log.info({ user: who.user, team: who.team }, "Slack token accepted");

  const nice = env.RAPTOR_BOT_THREAD_NICE && /^\d+$/.test(env.RAPTOR_BOT_THREAD_NICE) ? Number(env.RAPTOR_BOT_THREAD_NICE) : DEFAULT_THREAD_NICE;
  const data: ChatThreadData = { botToken, niceIncrement: nice, ...(slackApiUrl ? { slackApiUrl } : {}), consumer: env.RAPTOR_BOT_NAME ?? hostname() };
  const work = new WorkThread({ entry: chatThreadEntry(), workerData: data, log, onProgress: progress, resourceLimits: { ...THREAD_HEAP_LIMITS } });
  progress("starting the command thread");
  try {
    await work.start();
  } catch (err) {
    if (err instanceof WorkThreadStartError && err.oneLine) {
      process.stderr.write(`raptor: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // Auto-pipelining: the replay guard's SET per request, from many requests in one tick, goes out
  // as one write instead of one syscall each.
  const redis = watchRedis(new Redis(config.redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true }), log, "slack");
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createChatMetrics([registry]);
  const routes = botRoutes(registry, work);
  const socketMode = Boolean(env.SLACK_APP_TOKEN);
  const app = createSlackApp({
    botToken,
    signingSecret: env.SLACK_SIGNING_SECRET ?? "",
    ...(socketMode ? { appToken: env.SLACK_APP_TOKEN } : {}),
    port: Number(env.PORT ?? 3000),
    ...(slackApiUrl ? { slackApiUrl } : {}),
    redis,
    prefix: config.prefix,
    logger: log,
    limits: admissionLimitsFromEnv(env),
    // Over HTTP, /metrics and /healthz share the Slack port; in Socket Mode they get their own.
    ...(socketMode ? {} : { routes }),
    onAck: (s) => metrics.slackAckSeconds.observe(s),
    onBusy: (limit) => metrics.commandsBusy.inc({ limit }),
    answerer: work,
  });
  progress("starting the chat");
  const stops: (() => Promise<void>)[] = [];
  try {
    const { port } = await app.start();
    stops.push(() => app.stop());
    if (!port) stops.push(await serveOnMetricsPort(routes, "bot", log, env));
    process.stdout.write(port ? `raptor: Slack bot listening on :${port}/slack/events\n` : "raptor: Slack bot connected (Socket Mode)\n");
    await new Promise<void>((done) => {
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
    return 0;
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => log.error({ err: err.message }, "stopping the Slack app failed"));
    await work.stop();
    redis.disconnect();
  }
}
