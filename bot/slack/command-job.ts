import type { WebClient } from "@slack/web-api";
import type { ChatRequest, Reply } from "../dispatch-types.ts";
import { slackOrigin } from "../notify/format.ts";
import { errorFields, type Logger } from "../../lib/logger.ts";
import type { SlackDirectory } from "./directory.ts";
import { commandText, MAX_COMMAND_CHARS, tooLongText } from "./input.ts";
import { sendReply, type ReplySource, type ReplyTarget } from "./reply.ts";
import { postToResponseUrl } from "./response-url.ts";

/**
 * One admitted command from any Slack surface, as plain data: what the acking side hands to the
 * side that answers it (the same process, or the bot's command thread: bot/slack/work-thread.ts),
 * so it holds no functions and crosses a worker_threads message as it is.
 */
export interface CommandJob {
  text: string;
  user: string;
  userName?: string;
  channel: string;
  /** The channel's name as the request gave it (slash commands); looked up when absent and not a DM. */
  channelName?: string;
  isDm: boolean;
  /** The thread the command was typed in, if any (the deployment's origin). */
  threadTs?: string;
  /** Where the reply goes (bot/slack/reply.ts); a slash command's reply goes to its response_url. */
  reply: { source: ReplySource; channel: string; user: string; threadTs?: string; responseUrl?: string };
  /** The bot's own user id, so a leading mention of it is dropped from the text. */
  botUserId?: string;
}

/** Everything answering a command needs: dispatch, the Slack directory for names, the Web API for replies. */
export interface AnswerDeps {
  dispatch: (req: ChatRequest) => Promise<Reply>;
  directory: SlackDirectory;
  client: WebClient;
  log: Logger;
}

/** What the person reads when answering their command failed inside Raptor. */
export const INTERNAL_ERROR: Reply = {
  kind: "refused",
  code: "internal",
  text: "Raptor hit an internal error handling that command. Nothing was started; the bot's log has the details.",
};

/**
 * Bolt's respond(), from the URL alone: POST the message as JSON to the command's response_url;
 * a non-2xx answer is an error (an expired URL, a rate limit). bot/slack/response-url.ts says why
 * not fetch.
 */
export function respondTo(responseUrl: string): (message: Record<string, unknown>) => Promise<unknown> {
  return (message) => postToResponseUrl(responseUrl, message);
}

/** The reply target of a job, with respond() built from its response_url. */
export function replyTarget(job: CommandJob): ReplyTarget {
  const r = job.reply;
  return {
    source: r.source,
    channel: r.channel,
    user: r.user,
    ...(r.threadTs ? { threadTs: r.threadTs } : {}),
    ...(r.responseUrl ? { respond: respondTo(r.responseUrl) } : {}),
  };
}

/**
 * Parse-to-reply for one command: who typed it and where (the directory), dispatch, and the reply
 * sent where bot/slack/reply.ts says. Never throws: a failed dispatch is answered with
 * INTERNAL_ERROR, a failed reply is logged.
 */
export async function answerCommand(deps: AnswerDeps, job: CommandJob): Promise<void> {
  const log = deps.log;
  let reply: Reply;
  // Everything that reads the job is inside the try: a job that is not what its type says (a
  // repeated form field gave an array: redteam2 N5) is this command's internal error, not the
  // command thread's death.
  try {
    if (job.text.length > MAX_COMMAND_CHARS) {
      reply = { kind: "parse_error", text: tooLongText(job.text.length) };
    } else {
      const text = commandText(job.text, job.botUserId);
      const actor = await deps.directory.actor(job.user, job.userName);
      const name = job.isDm ? undefined : (job.channelName ?? (await deps.directory.channelName(job.channel).catch(() => undefined)));
      reply = await deps.dispatch({
        text: text === "" ? "help" : text,
        actor,
        channel: { id: job.channel, ...(name ? { name } : {}) },
        origin: slackOrigin(job.channel, job.threadTs),
      });
    }
  } catch (err) {
    log.error({ user: job.user, channel: job.channel, ...errorFields(err) }, "dispatch failed");
    reply = INTERNAL_ERROR;
  }
  await sendSafely(deps.client, replyTarget(job), reply, log, job);
}

/** sendReply, with a failure logged instead of thrown. */
export async function sendSafely(client: WebClient, target: ReplyTarget, reply: Reply, log: Logger, job: { user: string; channel: string }): Promise<void> {
  try {
    await sendReply(client, target, reply, log);
  } catch (err) {
    log.error({ user: job.user, channel: job.channel, reply: reply.kind, ...errorFields(err) }, "could not reply on Slack");
  }
}
