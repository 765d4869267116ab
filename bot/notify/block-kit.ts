import { clip, omittedNote, truncateTail } from "./format.ts";

/**
 * Block Kit primitives for the renderers in blocks.ts: the subset of block types Raptor uses,
 * Slack's limits, and builders that stay within them (section text clipped to 3000 characters,
 * button text to 75, value to 2000, at most 10 context elements). Text from outside is escaped so
 * it cannot mention @channel or forge links.
 */

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  buttonText: 75,
  buttonValue: 2000,
  contextElements: 10,
  /** chat.postMessage `text` (the notification fallback); Slack truncates beyond 40k, we stay far below. */
  fallbackText: 3000,
} as const;

export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
}
export interface PlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}
export interface ButtonElement {
  type: "button";
  action_id: string;
  text: PlainText;
  value: string;
  style?: "primary" | "danger";
  confirm?: { title: PlainText; text: PlainText; confirm: PlainText; deny: PlainText; style?: "primary" | "danger" };
}
export interface SectionBlock {
  type: "section";
  block_id?: string;
  text: Mrkdwn;
}
export interface ContextBlock {
  type: "context";
  block_id?: string;
  elements: Mrkdwn[];
}
export interface ActionsBlock {
  type: "actions";
  block_id?: string;
  elements: ButtonElement[];
}
export interface DividerBlock {
  type: "divider";
}
/** The subset of Block Kit Raptor renders (structurally a subset of @slack/types KnownBlock). */
export type Block = SectionBlock | ContextBlock | ActionsBlock | DividerBlock;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A user id becomes a mention; anything else (an email, a name, "terminal") is shown as text. */
export function who(actor: string): string {
  if (/^[UW][A-Z0-9]{2,}$/.test(actor)) return `<@${actor}>`;
  return escapeMrkdwn(actor || "someone");
}

export function section(text: string, blockId?: string): SectionBlock {
  return { type: "section", ...(blockId ? { block_id: blockId } : {}), text: { type: "mrkdwn", text: clip(text, SLACK_LIMITS.sectionText) } };
}

export function context(...texts: string[]): ContextBlock {
  return { type: "context", elements: texts.slice(0, SLACK_LIMITS.contextElements).map((t) => ({ type: "mrkdwn", text: clip(t, SLACK_LIMITS.sectionText) })) };
}

export function plain(text: string, max: number): PlainText {
  return { type: "plain_text", text: clip(text, max), emoji: true };
}

export function button(actionId: string, text: string, value: string, style?: "primary" | "danger"): ButtonElement {
  return { type: "button", action_id: actionId, text: plain(text, SLACK_LIMITS.buttonText), value: value.slice(0, SLACK_LIMITS.buttonValue), ...(style ? { style } : {}) };
}

/** Slack renders the date in the reader's time zone; the fallback is the ISO string. */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

/** Wraps text in a code block; a ``` inside the text would close it, so it is broken up. */
export function codeBlock(text: string): string {
  return "```" + (text.length > 0 ? text.replace(/```/g, "`\u200b``") : " ") + "```";
}

/** Code section for output: escaped, tail kept, with a note when earlier lines were dropped. */
export function outputSection(raw: string, budget: number = SLACK_LIMITS.sectionText): SectionBlock {
  const escaped = escapeMrkdwn(raw.replace(/\r\n/g, "\n").replace(/\s+$/, ""));
  const reserve = 8 + omittedNote(999_999_999).length + 4;
  const { text, omittedLines } = truncateTail(escaped.replace(/```/g, "`\u200b``"), budget - reserve);
  const note = omittedLines > 0 ? `_${omittedNote(omittedLines)}_\n` : "";
  return section(note + codeBlock(text));
}

/** Splits text into section-sized chunks at line boundaries, keeping the head. */
export function chunks(text: string, size: number, max: number): { parts: string[]; droppedLines: number } {
  const lines = text.split("\n");
  const parts: string[] = [];
  let cur = "";
  for (const [i, raw] of lines.entries()) {
    const line = clip(raw, size);
    if (cur.length > 0 && cur.length + 1 + line.length > size) {
      if (parts.length + 1 >= max) {
        parts.push(cur);
        return { parts, droppedLines: lines.length - i };
      }
      parts.push(cur);
      cur = line;
    } else {
      cur = cur.length > 0 ? `${cur}\n${line}` : line;
    }
  }
  if (cur.length > 0 || parts.length === 0) parts.push(cur.length > 0 ? cur : " ");
  return { parts, droppedLines: 0 };
}
