/**
 * The one piece of markup a reply's text may carry besides `inline code`: emphasis (headings in
 * `status`, `hosts`, `hosts check`). It is written with private-use characters that no chat
 * adapter shows as they are, and each adapter renders it: Slack as mrkdwn `*bold*`, the terminal
 * as plain text. So no Slack syntax (`*hello local*`) ever reaches a terminal, and a `*` in a log
 * or a cron schedule is never taken for markup. Pure.
 */

const OPEN = "\uE000";
const CLOSE = "\uE001";
const MARKS = /[\uE000\uE001]/g;

/** `text` emphasised (a heading): `*text*` in Slack, `text` in the terminal. */
export function strong(text: string): string {
  return `${OPEN}${text}${CLOSE}`;
}

/** For Slack, after escapeMrkdwn: emphasis becomes mrkdwn `*...*` (same length, so budgets hold). */
export function toMrkdwn(escaped: string): string {
  return escaped.replaceAll(OPEN, "*").replaceAll(CLOSE, "*");
}

/** For the terminal: the text without its emphasis marks. */
export function toPlain(text: string): string {
  return text.replace(MARKS, "");
}
