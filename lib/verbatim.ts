/**
 * Foreign text (an app's Procfile line, what a person typed) inside one of Raptor's own messages,
 * marked so that the chat adapters show it exactly as written (red-team L2: the terminal's markup
 * stripping took the backticks out of a Procfile line quoted in a build failure, and out of the
 * commands `deploys` lists). The marks are private-use characters that no adapter shows: the
 * terminal renders Raptor's text around them (bot/notify/markup.ts terminalText) and leaves what
 * is inside as it is; Slack's escaping and the terminal's plain rendering drop them. Pure.
 *
 * Messages carrying marks may be stored (a step's error, an event): whatever prints them goes
 * through one of those renderers, or through withoutVerbatimMarks (build logs, raptor.log).
 */

export const VERBATIM_OPEN = "\uE002";
export const VERBATIM_CLOSE = "\uE003";
/** Every private-use mark Raptor's messages use: emphasis (markup.ts) and verbatim. */
const ALL_MARKS = /[\uE000-\uE003]/g;
const VERBATIM_MARKS = /[\uE002\uE003]/g;

/**
 * `text` marked as foreign: shown as it is by every adapter. Marks already in it are dropped, so
 * foreign text cannot end the span early or forge Raptor's emphasis.
 */
export function verbatim(text: string): string {
  return `${VERBATIM_OPEN}${text.replace(ALL_MARKS, "")}${VERBATIM_CLOSE}`;
}

/** The text without verbatim marks (what it says, for logs and stores that print it as it is). */
export function withoutVerbatimMarks(text: string): string {
  return text.replace(VERBATIM_MARKS, "");
}

/**
 * `text` cut into Raptor's parts and verbatim parts, in order, marks removed. An unclosed
 * verbatim part runs to the end; a stray close mark is dropped.
 */
export function verbatimParts(text: string): { text: string; verbatim: boolean }[] {
  const parts: { text: string; verbatim: boolean }[] = [];
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf(VERBATIM_OPEN);
    if (open < 0) {
      parts.push({ text: rest.replaceAll(VERBATIM_CLOSE, ""), verbatim: false });
      break;
    }
    if (open > 0) parts.push({ text: rest.slice(0, open).replaceAll(VERBATIM_CLOSE, ""), verbatim: false });
    const close = rest.indexOf(VERBATIM_CLOSE, open + 1);
    const end = close < 0 ? rest.length : close;
    parts.push({ text: rest.slice(open + 1, end), verbatim: true });
    rest = close < 0 ? "" : rest.slice(close + 1);
  }
  return parts;
}
