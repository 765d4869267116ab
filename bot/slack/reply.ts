import type { WebClient } from "@slack/web-api";
import { toPlain } from "../notify/markup.ts";
import type { Reply } from "../dispatch-types.ts";
import { answerBlocks, answerMessage, answerText } from "../notify/blocks.ts";
import { guardMessage } from "../notify/message-fit.ts";
import { errorFields, silentLogger, type Logger } from "../../lib/logger.ts";

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

/**
 * The message for a reply, within Slack's limits. An answer too long for one message is cut
 * (message-fit.ts); a log answer's whole text is first uploaded as a file where the channel sees
 * the reply (files.uploadV2), and the cut message says where it is. A failed upload is logged and
 * the note then says how to ask for less instead.
 */
async function replyMessage(client: WebClient, target: ReplyTarget, reply: Reply, how: How, log: Logger): Promise<{ text: string; blocks: ReturnType<typeof answerBlocks> }> {
  if (reply.kind !== "answer") return guardMessage({ text: answerText(reply), blocks: answerBlocks(reply) });
  const fitted = answerMessage(reply);
  const file = reply.overflow?.file;
  if (!fitted.cut || !file || how !== "visible") return guardMessage(fitted);
  try {
    const where = target.threadTs ? { channel_id: target.channel, thread_ts: target.threadTs } : { channel_id: target.channel };
    await client.filesUploadV2({ ...where, filename: file, title: reply.title, content: toPlain(reply.text) }); // a file shows text as it is: no marks
    return guardMessage(answerMessage(reply, file));
  } catch (err) {
    log.warn({ channel: target.channel, ...errorFields(err) }, "could not upload a long answer as a file; sending its cut message only");
    return guardMessage(fitted);
  }
}

export async function sendReply(client: WebClient, target: ReplyTarget, reply: Reply, log: Logger = silentLogger): Promise<void> {
  const how = howToReply(target.source, reply.kind);
  if (how === "none") return;
  const { text, blocks } = await replyMessage(client, target, reply, how, log);
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
