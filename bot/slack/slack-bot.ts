import { checkBotToken } from "./check-token.ts";
import type { Redis } from "ioredis";
import type { EngineApiDeps } from "../../engine/context.ts";
import type { EventConsumer } from "../notify/consumer.ts";
import type { Logger } from "../../lib/logger.ts";
import type { SlackSink } from "../notify/slack-sink.ts";
import { createSlackApp, type SlackApp, type SlackAppOptions } from "./app.ts";
import type { AdmissionLimits } from "../admission.ts";
import { createChatWork, type ChatWork } from "./chat-work.ts";

export { ANSWER_COALESCE_MS } from "./chat-work.ts";

/** The Slack app's own options (tokens, secret, port, API URL) as app.ts documents them, and the bot's. */
export interface SlackBotOptions extends Pick<SlackAppOptions, "botToken" | "signingSecret" | "appToken" | "port" | "slackApiUrl"> {
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
 * The Slack bot in one event loop: the Bolt app (commands in) and the chat work (commands
 * answered, threads out) side by side. `raptor all` and the tests run it so; `raptor bot` on Slack
 * answers commands in a thread of its own instead (bin/slack-ack-thread.ts). Dispatch is the same
 * function the terminal uses; only the Authorizer differs. `blockingRedis` must be a connection of
 * its own (the consumer blocks on it).
 */
export async function startSlackBot(engine: EngineApiDeps, blockingRedis: Redis, o: SlackBotOptions): Promise<SlackBot> {
  // A bad token is one clear line now, not Bolt's retries and a stack trace half a minute later.
  const who = await checkBotToken(o.botToken, o.slackApiUrl);
  o.log.info({ user: who.user, team: who.team }, "Slack token accepted");
  let work: ChatWork | undefined;
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
    answerer: { answer: (job) => work!.answerer.answer(job) },
  });
  work = createChatWork(engine, blockingRedis, { client: app.client, directory: app.directory, authorizer: app.authorizer, minUpdateIntervalMs: o.minUpdateIntervalMs, consumer: o.consumer, log: o.log });
  const { port } = await app.start();
  await work.start();
  return {
    app,
    sink: work.sink,
    consumer: work.consumer,
    port,
    async stop() {
      await app.stop();
      await work.stop();
    },
  };
}
