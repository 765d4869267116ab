import type { WebClient } from "@slack/web-api";
import type { Reply } from "../dispatch-types.ts";
import { answerBlocks, answerText } from "../notify/blocks.ts";

/**
 * Where and how a command's reply goes. Mistakes and refusals are shown only to the person who
 * typed them; answers and decisions go where the command was typed (a mention's thread, the DM,
 * the channel of a slash command); a deployment's reply is its thread, which the event consumer
 * writes, so most deployment replies print nothing here.
 */

export type ReplySource = "command" | "mention" | "dm" | "action";

export interface ReplyTarget {
  source: ReplySource;
  channel: string;
  user: string;
  /** The thread to answer in (a mention's thread, or the mention itself). */
  threadTs?: string;
  /** Slash commands: Bolt's respond() to the response_url. */
  respond?: (message: Record<string, unknown>) => Promise<unknown>;
}

type How = "ephemeral" | "visible" | "none";

/** The reply policy as a table: source x reply kind. */
export function howToReply(source: ReplySource, kind: Reply["kind"]): How {
  if (source === "dm") return kind === "deployment" ? "none" : "visible";
  if (source === "action") return kind === "deployment" || kind === "done" ? "none" : "ephemeral";
  switch (kind) {
    case "parse_error":
    case "refused":
      return "ephemeral";
    case "answer":
    case "done":
      return "visible";
    case "deployment":
      // A slash command leaves no trace in the channel; tell its author the thread is coming.
      return source === "command" ? "ephemeral" : "none";
  }
}

export async function sendReply(client: WebClient, target: ReplyTarget, reply: Reply): Promise<void> {
  const how = howToReply(target.source, reply.kind);
  if (how === "none") return;
  const blocks = answerBlocks(reply);
  const text = answerText(reply);
  if (target.source === "command" && target.respond) {
    await target.respond({ response_type: how === "ephemeral" ? "ephemeral" : "in_channel", replace_original: false, text, blocks });
    return;
  }
  const thread = target.threadTs ? { thread_ts: target.threadTs } : {};
  if (how === "ephemeral") {
    await client.chat.postEphemeral({ channel: target.channel, user: target.user, text, blocks, ...thread });
    return;
  }
  await client.chat.postMessage({ channel: target.channel, text, blocks, unfurl_links: false, unfurl_media: false, ...thread });
}
