import type { SlashCommand } from "@slack/bolt";
import type { CommandJob } from "./command-job.ts";

/**
 * The form fields of a slash command that Raptor reads (pure). Slack sends each once, as a
 * string; a request that repeats one (querystring then gives an array) or leaves one out was not
 * sent by Slack, and reading it as a string anyway once killed the command thread
 * (`t.replace is not a function`, redteam2 N5). So it is refused at the ack, said plainly.
 */
export const COMMAND_FIELDS = ["command", "user_id", "user_name", "channel_id", "channel_name", "text", "response_url"] as const;

export type CommandFields = Pick<SlashCommand, (typeof COMMAND_FIELDS)[number]>;

/** The command's fields when each is one string; otherwise a sentence naming the first that is not. */
export function readCommandFields(fields: Record<string, unknown>): { ok: true; fields: CommandFields } | { ok: false; problem: string } {
  for (const f of COMMAND_FIELDS) {
    const v = fields[f];
    if (Array.isArray(v)) return { ok: false, problem: `the field \`${f}\` came ${v.length} times` };
    if (typeof v !== "string") return { ok: false, problem: `the field \`${f}\` is missing` };
  }
  return { ok: true, fields: fields as CommandFields };
}

/** The ack (shown to its author only) for a command whose fields could not be read. */
export function unreadableCommandAck(problem: string): { response_type: "ephemeral"; text: string } {
  return { response_type: "ephemeral", text: `Raptor could not read that request: ${problem}. Slack sends each field once; nothing was started.` };
}

/** `v` when it is a string, else undefined: what a listener reads from Slack's JSON (events, button payloads). */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/**
 * Why a job cannot be answered (a field that should be a string is not), or undefined: the last
 * check before a job crosses to the command thread, whatever surface built it.
 */
export function jobProblem(job: CommandJob): string | undefined {
  const strings: [string, unknown][] = [
    ["text", job.text],
    ["user", job.user],
    ["channel", job.channel],
    ["reply.channel", job.reply?.channel],
    ["reply.user", job.reply?.user],
  ];
  const optional: [string, unknown][] = [
    ["userName", job.userName],
    ["channelName", job.channelName],
    ["threadTs", job.threadTs],
    ["botUserId", job.botUserId],
    ["reply.threadTs", job.reply?.threadTs],
    ["reply.responseUrl", job.reply?.responseUrl],
  ];
  for (const [name, v] of strings) if (typeof v !== "string") return `${name} is not a string`;
  for (const [name, v] of optional) if (v !== undefined && typeof v !== "string") return `${name} is not a string`;
  if (typeof job.isDm !== "boolean") return "isDm is not a boolean";
  return undefined;
}
