import { hostname, userInfo } from "node:os";
import { runRepl } from "../bot/terminal.ts";
import { terminalAuthorizer } from "../bot/terminal-access.ts";
import { startSlackBot } from "../bot/slack/slack-bot.ts";
import { admissionLimitsFromEnv } from "../bot/admission.ts";
import { routesOf, serveMetrics } from "./observe.ts";
import type { Runtime } from "./runtime.ts";

/**
 * The chat side of `raptor bot` / `raptor all`: Slack when SLACK_BOT_TOKEN is set, otherwise the
 * terminal chat on stdin/stdout (the embedded default).
 */
export async function startChat(rt: Runtime, shutdown: (() => Promise<void> | void)[]): Promise<void> {
  const env = process.env;
  if (env.SLACK_BOT_TOKEN) {
    if (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
      throw new Error("SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is");
    }
    const bot = await startSlackBot(rt.engine, rt.redisConnection(), {
      botToken: env.SLACK_BOT_TOKEN,
      signingSecret: env.SLACK_SIGNING_SECRET ?? "",
      appToken: env.SLACK_APP_TOKEN || undefined,
      port: Number(env.PORT ?? 3000),
      slackApiUrl: env.SLACK_API_URL || undefined,
      consumer: env.RAPTOR_BOT_NAME ?? hostname(),
      limits: admissionLimitsFromEnv(env),
      // Over HTTP, /metrics and /healthz share the Slack port; in Socket Mode they get their own.
      ...(env.SLACK_APP_TOKEN ? {} : { routes: routesOf(rt) }),
      log: rt.engine.logger,
    });
    shutdown.push(() => bot.stop());
    if (!bot.port) shutdown.push(await serveMetrics(rt, "bot"));
    process.stdout.write(bot.port ? `raptor: Slack bot listening on :${bot.port}/slack/events\n` : "raptor: Slack bot connected (Socket Mode)\n");
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    return;
  }
  shutdown.push(await serveMetrics(rt, "bot"));
  const actor = { id: env.RAPTOR_USER ?? userInfo().username };
  // SIGTERM / SIGINT end the chat like `exit`, so shutdown runs (the embedded database closes cleanly).
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  process.once("SIGTERM", () => stop.abort());
  await runRepl({ engine: rt.engine, authorizer: terminalAuthorizer, connection: () => rt.redisConnection() }, actor, { input: process.stdin, output: process.stdout, signal: stop.signal });
}
