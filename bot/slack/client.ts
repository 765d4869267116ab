import { LogLevel, WebClient, type Logger as SlackLogger, type WebClientOptions } from "@slack/web-api";
import type { Logger } from "../../lib/logger.ts";

/**
 * Web API client settings: failed calls are retried with backoff, and a 429 waits out Slack's
 * Retry-After before the retry (the client pauses its queue meanwhile).
 */
export function slackClientOptions(slackApiUrl: string | undefined, logger: SlackLogger): WebClientOptions {
  return {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    logger,
    rejectRateLimitedCalls: false,
    retryConfig: { retries: 5, factor: 2, minTimeout: 500, maxTimeout: 30_000, randomize: true },
    timeout: 30_000,
  };
}

/**
 * Slack's logger interface (Bolt's and the Web API client's) on top of ours. Debug output is
 * dropped on purpose: at debug level the Web API client logs request bodies, which carry logs and
 * command output.
 */
export function slackLogger(log: Logger): SlackLogger {
  const line = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : typeof m === "string" ? m : JSON.stringify(m))).join(" ");
  let level = LogLevel.INFO;
  let name = "slack";
  return {
    debug: () => {},
    info: (...m: unknown[]) => log.info({ component: name }, line(m)),
    warn: (...m: unknown[]) => log.warn({ component: name }, line(m)),
    error: (...m: unknown[]) => log.error({ component: name }, line(m)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n: string) => {
      name = n;
    },
  };
}

/** The bot's Web API client, as the Bolt app builds its own (for a thread that has no Bolt app). */
export function slackWebClient(botToken: string, slackApiUrl: string | undefined, log: Logger): WebClient {
  const logger = slackLogger(log);
  return new WebClient(botToken, slackClientOptions(slackApiUrl, logger));
}
