import type { WebClient } from "@slack/web-api";
import type { Redis } from "ioredis";
import type { EngineApiDeps } from "../../engine/context.ts";
import type { Logger } from "../../lib/logger.ts";
import { Coalescer } from "../../lib/coalesce.ts";
import { dispatch } from "../dispatch.ts";
import type { Authorizer, Reply } from "../dispatch-types.ts";
import { createEventConsumer, type EventConsumer } from "../notify/consumer.ts";
import { createSlackSink, type SlackSink } from "../notify/slack-sink.ts";
import type { CommandAnswerer } from "./app.ts";
import { answerCommand, type CommandJob } from "./command-job.ts";
import type { SlackDirectory } from "./directory.ts";

/** How long the answer to a query is shared with whoever asks the same (ms). */
export const ANSWER_COALESCE_MS = 1_000;

export interface ChatWorkOptions {
  /** The bot's Web API client (replies, thread updates). */
  client: WebClient;
  directory: SlackDirectory;
  authorizer: Authorizer;
  /** Coalescing gap for head edits, per channel (default 1000 ms: Slack's ~1 message/s/channel). */
  minUpdateIntervalMs?: number;
  /** Consumer name in the bot's Redis consumer group (stable across restarts). */
  consumer?: string;
  log: Logger;
}

export interface ChatWork {
  /** Answers admitted commands: dispatch, then the reply. */
  answerer: CommandAnswerer;
  sink: SlackSink;
  consumer: EventConsumer;
  /** Starts reading engine events into threads. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The Slack bot's work, everything but acking: answering commands (dispatch, with identical
 * queries within a second sharing one answer: issue 14 item 4) and writing deployment threads
 * (the event consumer and the Slack sink). Runs beside the Bolt app (bot/slack/slack-bot.ts) or in
 * the bot's command thread (bin/slack-command-thread.ts). `blockingRedis` must be a connection of its own.
 */
export function createChatWork(engine: EngineApiDeps, blockingRedis: Redis, o: ChatWorkOptions): ChatWork {
  const answers = new Coalescer<Reply>(ANSWER_COALESCE_MS);
  const deps = { dispatch: (req: Parameters<typeof dispatch>[1]) => dispatch({ engine, authorizer: o.authorizer, answers }, req), directory: o.directory, client: o.client, log: o.log };
  const sink = createSlackSink({ client: o.client, redis: engine.redis, prefix: engine.prefix, minUpdateIntervalMs: o.minUpdateIntervalMs, log: o.log });
  const consumer = createEventConsumer({ redis: blockingRedis, sink, prefix: engine.prefix, consumer: o.consumer, log: o.log });
  return {
    answerer: { answer: (job: CommandJob) => answerCommand(deps, job) },
    sink,
    consumer,
    start: () => consumer.start(),
    async stop() {
      await consumer.stop();
      await sink.flush();
    },
  };
}
