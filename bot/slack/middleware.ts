import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import type { Redis } from "ioredis";
import type { Logger } from "../../lib/logger.ts";

/** Message subtypes that are still a person typing (everything else: edits, joins, bots, files). */
const PERSON_SUBTYPES = new Set<string | undefined>([undefined, "thread_broadcast"]);

type EventBody = { type?: string; event_id?: string; event?: { bot_id?: string; subtype?: string; channel_type?: string; user?: string } };

/** Events from bots (ours included) and non-typing message subtypes never reach a listener. */
export const ignoreBots: Middleware<AnyMiddlewareArgs> = async ({ body, next }) => {
  const event = (body as EventBody).event;
  if (event && (event.bot_id || !PERSON_SUBTYPES.has(event.subtype) || !event.user)) return;
  await next();
};

/** Only direct messages (message.im); channel messages are heard through app_mention. */
export const onlyDirectMessages: Middleware<AnyMiddlewareArgs> = async ({ body, next }) => {
  if ((body as EventBody).event?.channel_type !== "im") return;
  await next();
};

/** True the first time `key` is claimed within `ttlSeconds` (Redis SET NX EX). */
export async function claimOnce(redis: Redis, key: string, ttlSeconds: number): Promise<boolean> {
  return (await redis.set(key, "1", "EX", ttlSeconds, "NX")) === "OK";
}

/**
 * Slack redelivers an event it thinks we missed (X-Slack-Retry-Num), with the same event_id.
 * The first delivery claims the id in Redis; any later one is dropped, so a command typed once
 * is dispatched once even across bot instances or restarts. Slack retries for about an hour.
 */
export function dedupeEvents(redis: Redis, prefix: string, log: Logger, ttlSeconds = 6 * 3600): Middleware<AnyMiddlewareArgs> {
  return async ({ body, context, next }) => {
    const b = body as EventBody;
    if (b.type === "event_callback" && b.event_id) {
      if (!(await claimOnce(redis, `${prefix}slack:event:${b.event_id}`, ttlSeconds))) {
        log.info({ eventId: b.event_id, retryNum: context.retryNum, retryReason: context.retryReason }, "Slack redelivered an event already handled; ignored");
        return;
      }
    }
    await next();
  };
}
