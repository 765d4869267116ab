import { checkBotToken } from "./check-token.ts";
import type { Redis } from "ioredis";
import type { EngineApiDeps } from "../../engine/context.ts";
import { dispatch } from "../dispatch.ts";
import { createEventConsumer, type EventConsumer } from "../notify/consumer.ts";
import type { Logger } from "../../lib/logger.ts";
import { createSlackSink, type SlackSink } from "../notify/slack-sink.ts";
import { createSlackApp, type SlackApp, type SlackAppOptions } from "./app.ts";
import type { AdmissionLimits } from "../admission.ts";
import { Coalescer } from "../../lib/coalesce.ts";
import type { Reply } from "../dispatch-types.ts";

/** How long the answer to a query is shared with whoever asks the same (ms). */
export const ANSWER_COALESCE_MS = 1_000;

export interface SlackBotOptions {
  botToken: string;
  signingSecret: string;
  appToken?: string;
  port: number;
  slackApiUrl?: string;
  /** Coalescing gap for head edits, per channel (default 1000 ms: Slack's ~1 message/s/channel). */
  minUpdateIntervalMs?: number;
  /** Consumer name in the bot's Redis consumer group (stable across restarts). */
  consumer?: string;
  /** Extra GET routes on the Slack HTTP port (`/metrics`, `/healthz`). */
  routes?: SlackAppOptions["routes"];
  /** Commands answered at once, per person and overall (bot/admission.ts; RAPTOR_BOT_MAX_PER_USER, RAPTOR_BOT_MAX_IN_FLIGHT). */
  limits?: AdmissionLimits;
  log: Logger;
}

export interface SlackBot {
  app: SlackApp;
  sink: SlackSink;
  consumer: EventConsumer;
  port?: number;
  stop(): Promise<void>;
}

/**
 * `raptor bot` on Slack: the Bolt app (commands in), and the event consumer with the Slack sink
 * (threads out). Dispatch is the same function the terminal uses; only the Authorizer differs.
 * `blockingRedis` must be a connection of its own (the consumer blocks on it).
 */
export async function startSlackBot(engine: EngineApiDeps, blockingRedis: Redis, o: SlackBotOptions): Promise<SlackBot> {
  // A bad token is one clear line now, not Bolt's retries and a stack trace half a minute later.
  const who = await checkBotToken(o.botToken, o.slackApiUrl);
  o.log.info({ user: who.user, team: who.team }, "Slack token accepted");
  let authorizer: SlackApp["authorizer"] | undefined;
  // Identical queries within a second share one answer (issue 14 item 4).
  const answers = new Coalescer<Reply>(ANSWER_COALESCE_MS);
  const app = createSlackApp({
    botToken: o.botToken,
    signingSecret: o.signingSecret,
    appToken: o.appToken,
    port: o.port,
    slackApiUrl: o.slackApiUrl,
    redis: engine.redis,
    prefix: engine.prefix,
    logger: o.log,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.routes ? { routes: o.routes } : {}),
    ...(engine.metrics
      ? { onAck: (s: number) => engine.metrics!.slackAckSeconds.observe(s), onBusy: (limit: "user" | "overall") => engine.metrics!.commandsBusy.inc({ limit }) }
      : {}),
    dispatch: (req) => dispatch({ engine, authorizer: authorizer!, answers }, req),
  });
  authorizer = app.authorizer;
  const sink = createSlackSink({ client: app.client, redis: engine.redis, prefix: engine.prefix, minUpdateIntervalMs: o.minUpdateIntervalMs, log: o.log });
  const consumer = createEventConsumer({ redis: blockingRedis, sink, prefix: engine.prefix, consumer: o.consumer, log: o.log });
  const { port } = await app.start();
  await consumer.start();
  return {
    app,
    sink,
    consumer,
    port,
    async stop() {
      await app.stop();
      await consumer.stop();
      await sink.flush();
    },
  };
}
