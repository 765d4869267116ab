import type { WebClient } from "@slack/web-api";
import type { Redis } from "ioredis";
import { finalEventTypes, type EngineEvent } from "../../engine/event-types.ts";
import { failureBlocks, fallbackText, headBlocks, logBlocks, summaryBlocks, who, type Block } from "./blocks.ts";
import { escapeMrkdwn } from "./block-kit.ts";
import { guardMessage } from "./message-fit.ts";
import type { ThreadSink } from "./consumer.ts";
import { clip, parseOrigin } from "./format.ts";
import { HeadUpdates } from "./head-updates.ts";
import { errorFields, silentLogger, type Logger } from "../../lib/logger.ts";
import type { ThreadState } from "./thread.ts";

/**
 * Writes deployment threads to Slack: the head message (posted once in the origin channel/thread,
 * its ts kept in Redis, edited as steps progress, coalesced per channel), and thread replies for
 * logs, failures and the final summary. Log text and outputs go to Slack only, never to the logger.
 */

export interface SlackSinkOptions {
  client: WebClient;
  redis: Redis;
  /** Key prefix. Default `raptor:`. */
  prefix?: string;
  /** Minimum gap between two head edits in one channel. Default 1000 ms. */
  minUpdateIntervalMs?: number;
  /** Logs longer than this many characters are also uploaded whole as a file in the thread. Default 20 000. */
  uploadOverChars?: number;
  /** Expiry of the stored head ts. Default 30 days. */
  ttlSeconds?: number;
  log?: Logger;
}

export interface SlackSink extends ThreadSink {
  /** Sends queued head edits and waits for them (call before shutting down). */
  flush(): Promise<void>;
  /** How many deployments' heads are cached in memory (Redis holds them all). */
  cachedHeads(): number;
}

interface Head {
  channel: string;
  ts: string;
  /** Where replies go: the origin thread when the command came in one, else the head itself. */
  replyTs: string;
}

/** Events whose head edit must land before the event counts as delivered. */
const URGENT = new Set<EngineEvent["type"]>([
  "deployment.awaiting_approval",
  "deployment.approved",
  "deployment.rejected",
  "deployment.succeeded",
  "deployment.failed",
  "deployment.cancelled",
]);

/** Slack message metadata type marking Raptor's thread posts (payload: deployment_id, key). */
const POST_EVENT_TYPE = "raptor_thread_post";
/** A post asked of Slack whose answer was not seen yet. */
const SENDING = "sending";

/**
 * Slack answered `ok: false` (channel_not_found, not_in_channel, invalid_blocks...): retrying the
 * same call cannot help. Network errors and 5xx are not platform errors and are retried.
 */
function isPermanent(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "slack_webapi_platform_error";
}

function slackError(err: unknown): string | undefined {
  return (err as { data?: { error?: string } } | null)?.data?.error;
}

function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "log";
}

export function createSlackSink(opts: SlackSinkOptions): SlackSink {
  const { client, redis } = opts;
  const prefix = opts.prefix ?? "raptor:";
  const uploadOver = opts.uploadOverChars ?? 20_000;
  const ttl = opts.ttlSeconds ?? 30 * 24 * 3600;
  const log = opts.log ?? silentLogger;
  // A cache of Redis' head keys for deployments in flight, so a long-running bot does not keep
  // every deployment it ever saw; a later event of an ended deployment reads Redis again.
  const heads = new Map<string, Head>();
  const headKey = (id: string) => `${prefix}slack:head:${id}`;

  const updates = new HeadUpdates<ThreadState>(async (head, state) => {
    try {
      await client.chat.update({ channel: head.channel, ts: head.ts, ...guardMessage({ text: fallbackText(state), blocks: headBlocks(state) }) });
    } catch (err) {
      if (!isPermanent(err)) throw err;
      log.warn({ deploymentId: state.deploymentId, channel: head.channel, slackError: slackError(err) }, "head message edit refused by Slack");
    }
  }, opts.minUpdateIntervalMs ?? 1000);

  async function loadHead(id: string): Promise<Head | undefined> {
    const cached = heads.get(id);
    if (cached) return cached;
    const json = await redis.get(headKey(id));
    if (!json) return undefined;
    const head = JSON.parse(json) as Head;
    heads.set(id, head);
    return head;
  }

  /**
   * Where a post stands, per deployment: `<prefix>slack:posts:<id>` maps a post's key (its event id
   * and part) to "sending" (asked of Slack, answer not seen) or the message's ts.
   */
  const postsKey = (id: string) => `${prefix}slack:posts:${id}`;

  /** A message this bot posted with `key` for deployment `id`, found in Slack by its metadata. */
  async function findPosted(id: string, key: string, channel: string, threadTs: string | undefined): Promise<string | undefined> {
    const res = threadTs
      ? await client.conversations.replies({ channel, ts: threadTs, include_all_metadata: true, limit: 1000 })
      : await client.conversations.history({ channel, include_all_metadata: true, limit: 200 });
    const hit = (res.messages ?? []).find((m) => {
      const p = (m as { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }).metadata;
      return p?.event_type === POST_EVENT_TYPE && p.event_payload?.deployment_id === id && p.event_payload?.key === key;
    });
    return hit?.ts;
  }

  /**
   * Posts a thread message exactly once across bot restarts. The consumer redelivers an event whose
   * delivery was cut short (a kill after Slack took a post, before the event was recorded as
   * delivered); each post carries its key in Slack message metadata and is marked "sending" in Redis
   * before the call, so a retry that finds the mark looks the message up in Slack instead of posting
   * it again. If Slack cannot be searched (missing scope), the post is sent: a repeat beats a loss.
   * Returns the message's ts.
   */
  async function postOnce(id: string, key: string, args: { channel: string; thread_ts?: string; text: string; blocks: Block[] }): Promise<string> {
    const seen = await redis.hget(postsKey(id), key);
    if (seen && seen !== SENDING) return seen;
    if (seen === SENDING) {
      try {
        const ts = await findPosted(id, key, args.channel, args.thread_ts);
        if (ts) {
          await redis.hset(postsKey(id), key, ts);
          log.info({ deploymentId: id, key }, "thread message already in Slack from before a restart; not posted again");
          return ts;
        }
      } catch (err) {
        log.warn({ deploymentId: id, key, ...errorFields(err), slackError: slackError(err) }, "could not look for a message posted before a restart; posting it");
      }
    }
    await redis.multi().hset(postsKey(id), key, SENDING).expire(postsKey(id), ttl).exec();
    const res = await client.chat.postMessage({
      channel: args.channel,
      ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}),
      // Every thread message passes the one guard: never a message larger than Slack takes.
      ...guardMessage({ text: args.text, blocks: args.blocks }),
      unfurl_links: false,
      unfurl_media: false,
      metadata: { event_type: POST_EVENT_TYPE, event_payload: { deployment_id: id, key } },
    });
    if (!res.ts) throw new Error("chat.postMessage returned no ts");
    await redis.hset(postsKey(id), key, res.ts);
    return res.ts;
  }

  async function postHead(state: ThreadState, channel: string, threadTs: string | undefined): Promise<Head> {
    const ts = await postOnce(state.deploymentId, "head", { channel, text: fallbackText(state), blocks: headBlocks(state), ...(threadTs ? { thread_ts: threadTs } : {}) });
    const head: Head = { channel, ts, replyTs: threadTs ?? ts };
    await redis.set(headKey(state.deploymentId), JSON.stringify(head), "EX", ttl);
    heads.set(state.deploymentId, head);
    return head;
  }

  /** A reply in the thread, once per `key` (event id and part: one event may post two). */
  async function reply(head: Head, state: ThreadState, key: string, blocks: Block[], text: string): Promise<void> {
    await postOnce(state.deploymentId, key, { channel: head.channel, thread_ts: head.replyTs, text, blocks });
  }

  async function postLog(head: Head, state: ThreadState, event: Extract<EngineEvent, { type: "step.log" }>): Promise<void> {
    const title = `${event.step.replace(/_/g, " ")}: ${event.title}`;
    await reply(head, state, `${event.id}:log`, logBlocks(title, event.text), title);
    if (event.text.length <= uploadOver) return;
    try {
      await client.filesUploadV2({
        channel_id: head.channel,
        thread_ts: head.replyTs,
        filename: `${fileSafe(`${state.app}-${state.env}-${event.step}-${event.title}`)}.log`,
        title: clip(`${title} (full log)`, 250),
        content: event.text,
      });
    } catch (err) {
      // The tail is in the thread already; a failed upload is not worth reposting the log for.
      log.warn({ deploymentId: state.deploymentId, ...errorFields(err), slackError: slackError(err) }, "log upload failed");
    }
  }

  async function deliverEvent(head: Head, state: ThreadState, event: EngineEvent, prev: ThreadState | undefined): Promise<void> {
    switch (event.type) {
      case "step.log":
        return postLog(head, state, event);
      case "step.failed":
        return reply(head, state, `${event.id}:failure`, failureBlocks(state, state.errors.at(-1) ?? { step: event.step, message: event.message }), `${event.step} failed: ${event.message}`);
      case "deployment.awaiting_approval": {
        const approvers = event.approvers.length > 0 ? event.approvers.map(who).join(", ") : "an approver";
        return reply(
          head,
          state,
          `${event.id}:approval`,
          [{ type: "section", text: { type: "mrkdwn", text: clip(`:raised_hand: Waiting for approval from ${approvers}: use the buttons above, or type \`approve ${state.deploymentId}\`.`, 3000) } }],
          `Waiting for approval from ${event.approvers.join(", ")}`,
        );
      }
      case "deployment.failed": {
        // A failure the step did not already report gets its own reply with the evidence.
        if (state.errors.length > (prev?.errors.length ?? 0)) {
          const error = state.errors.at(-1)!;
          await reply(head, state, `${event.id}:failure`, failureBlocks(state, error), `${state.app} ${state.env}: ${error.message}`);
        }
        return reply(head, state, `${event.id}:summary`, summaryBlocks(state), fallbackText(state));
      }
      case "deployment.succeeded":
      case "deployment.cancelled":
      case "deployment.rejected":
        return reply(head, state, `${event.id}:summary`, summaryBlocks(state), fallbackText(state));
      default:
        return;
    }
  }

  return {
    async deliver(state, event, prev) {
      const origin = parseOrigin(state.origin);
      if (origin.kind !== "slack") return;
      if (event.type === "beat.report") {
        // One message in the channel (or the thread it concerns), no head.
        try {
          // In the thread it concerns when it has one (a timed lock's end, under the `lock` command).
          await client.chat.postMessage({ channel: origin.channel, text: clip(`:gear: ${escapeMrkdwn(event.text)}`, 3000), unfurl_links: false, unfurl_media: false, ...(origin.threadTs ? { thread_ts: origin.threadTs } : {}) });
        } catch (err) {
          if (!isPermanent(err)) throw err;
          log.error({ channel: origin.channel, type: event.type, slackError: slackError(err) }, "Slack refused a beat report");
        }
        return;
      }
      try {
        let head = await loadHead(state.deploymentId);
        if (!head) {
          head = await postHead(state, origin.channel, origin.threadTs);
        } else if (JSON.stringify(headBlocks(state)) !== JSON.stringify(prev ? headBlocks(prev) : undefined)) {
          const urgent = URGENT.has(event.type);
          const landed = updates.schedule({ channel: head.channel, ts: head.ts, deploymentId: state.deploymentId }, state, { urgent });
          if (urgent) await landed;
          else landed.catch((err) => log.warn({ deploymentId: state.deploymentId, ...errorFields(err) }, "head message edit failed; the next one carries the state"));
        }
        await deliverEvent(head, state, event, prev);
      } catch (err) {
        if (!isPermanent(err)) throw err;
        // Retrying cannot fix it (bot not in the channel, archived channel...): say so and move on.
        log.error({ deploymentId: state.deploymentId, channel: origin.channel, type: event.type, slackError: slackError(err) }, "Slack refused a thread message");
      }
      if (finalEventTypes.has(event.type)) heads.delete(state.deploymentId);
    },
    flush: () => updates.flush(),
    cachedHeads: () => heads.size,
  };
}
