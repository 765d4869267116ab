/**
 * The markup a reply's text may carry, and how each chat adapter renders it.
 *
 * Code: Raptor's own texts (errors, hints, answers) write a command or a name to type between
 * backticks, `deploy hello local`: Slack shows it as inline code, and the terminal prints it without
 * the backticks (`terminalText`), so a terminal never shows Slack syntax. Only Raptor's texts are
 * rendered so; app output (build logs, `logs`, a failure's output) is printed as it is, backticks
 * and all.
 *
 * Emphasis (headings in
 * `status`, `hosts`, `hosts check`). It is written with private-use characters that no chat
 * adapter shows as they are, and each adapter renders it: Slack as mrkdwn `*bold*`, the terminal
 * as plain text. So no Slack syntax (`*hello local*`) ever reaches a terminal, and a `*` in a log
 * or a cron schedule is never taken for markup. Pure.
 */

import { verbatimParts } from "../../lib/verbatim.ts";

const OPEN = "\uE000";
const CLOSE = "\uE001";
/** Emphasis and verbatim marks (lib/verbatim.ts): the terminal shows neither. */
const MARKS = /[\uE000-\uE003]/g;

/** `text` emphasised (a heading): `*text*` in Slack, `text` in the terminal. */
export function strong(text: string): string {
  return `${OPEN}${text}${CLOSE}`;
}

/** For Slack, after escapeMrkdwn: emphasis becomes mrkdwn `*...*` (same length, so budgets hold). */
export function toMrkdwn(escaped: string): string {
  return escaped.replaceAll(OPEN, "*").replaceAll(CLOSE, "*");
}

/** For the terminal: the text without its emphasis and verbatim marks. */
export function toPlain(text: string): string {
  return text.replace(MARKS, "");
}

/**
 * A code span as Raptor's texts write one (and as Slack renders one): a backtick at a line's
 * start or after a space or "(", text without backticks or line breaks, a backtick before a space,
 * punctuation or the line's end. A backtick inside a quoted word (`"`rm`"`: what a person typed,
 * echoed by the grammar) is not one, and stays.
 */
const CODE_SPAN = /(^|[\s(])`([^`\n]+)`(?=$|[\s.,;:)!?])/gm;

/** Stands for the i-th verbatim part while code spans are rendered: no backtick, space or line break. */
const slot = (i: number) => `\uE004${i}\uE005`;
const SLOT = /\uE004(\d+)\uE005/g;

/**
 * For the terminal: one of Raptor's own texts as plain text: emphasis marks dropped, code spans
 * printed without their backticks (`type \`help\`` → `type help`). Foreign text Raptor marked
 * (lib/verbatim.ts: a Procfile line, a command as typed) is printed exactly as written, its own
 * backticks kept; Raptor's span around it loses its backticks as any other. Not for app output. Pure.
 */
export function terminalText(text: string): string {
  const kept: string[] = [];
  const own = verbatimParts(text.replace(/[\uE004\uE005]/g, ""))
    .map((p) => (p.verbatim ? slot(kept.push(p.text) - 1) : p.text))
    .join("");
  return toPlain(own)
    .replace(CODE_SPAN, "$1$2")
    .replace(SLOT, (_m, i: string) => kept[Number(i)] ?? "");
}
