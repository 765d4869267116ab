import { ENV_NAME, IDENT } from "../../lib/names.ts";

/**
 * Turning what Slack delivers into command text (pure). Slack escapes &, < and > and wraps
 * mentions, channels and links in <...>; the grammar wants what the person typed.
 */

/** Longer input is answered with a "too long" error and never reaches the parser. */
export const MAX_COMMAND_CHARS = 4000;

/**
 * Slack's message text -> what the person typed. Only markup is undone: whitespace and quotes are
 * left as typed, because inside a quoted config value they are data (`MOTD="two  spaces"` sets two
 * spaces; `SIG="it’s"` keeps its curly apostrophe). The grammar splits words on any whitespace and
 * accepts Slack's curly quotes as quotes.
 */
export function commandText(raw: string, botUserId?: string): string {
  let t = raw;
  // A leading mention of the bot ("<@UBOT> deploy web", "<@UBOT|raptor>: deploy web") is the address, not the command.
  t = t.replace(/^\s*<@([UW][A-Z0-9]+)(?:\|[^>]*)?>[\s:,]*/, (m: string, id: string) => (botUserId === undefined || id === botUserId ? "" : m));
  // <#C123|web> -> #web; <mailto:a@b.c|a@b.c> -> a@b.c; <https://x|label> -> label; <https://x> -> https://x
  t = t.replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name || id}`);
  t = t.replace(/<(?:mailto:)?([^<>|@!#][^<>|]*)\|([^<>]*)>/g, (_m, _url: string, label: string) => label);
  t = t.replace(/<((?:https?|mailto):[^<>|]*)>/g, (_m, url: string) => url.replace(/^mailto:/, ""));
  // `&amp;` `&lt;` `&gt;` are left to the grammar's normalize, which decodes them once: decoding here
  // too turned a typed `&amp;lt;` (Slack's encoding of "&lt;") into "<".
  return t.trim();
}

export function tooLongText(length: number): string {
  return `That command is too long (${length} characters; the limit is ${MAX_COMMAND_CHARS}). Commands are one line, like \`deploy <app> <env>\`; \`help\` lists them.`;
}

/** What a Raptor button may carry, by action id. Values come back from Slack; they are checked, not trusted. */
export const BUTTON_VALUE_PATTERNS: Record<string, RegExp> = {
  raptor_approve: /^approve [A-Za-z0-9_-]{1,100}$/,
  raptor_reject: /^reject [A-Za-z0-9_-]{1,100}$/,
  raptor_rollback: new RegExp(`^rollback ${IDENT.source.slice(1, -1)} ${ENV_NAME.source.slice(1, -1)} v\\d{1,9}$`),
  raptor_confirm: new RegExp(
    `^(?:scale! ${IDENT.source.slice(1, -1)} ${ENV_NAME.source.slice(1, -1)}( ${IDENT.source.slice(1, -1)}=\\d{1,3}){1,20}|rollback! ${IDENT.source.slice(1, -1)} ${ENV_NAME.source.slice(1, -1)} v\\d{1,9})$`,
  ),
};
