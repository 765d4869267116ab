import { withoutVerbatimMarks } from "../../lib/verbatim.ts";
import { showControls } from "../../lib/control-chars.ts";
import { clip, omittedNote, truncateTail } from "./format.ts";

/**
 * Block Kit primitives for the renderers in blocks.ts: the subset of block types Raptor uses,
 * Slack's limits, and builders that stay within them (section text clipped to 3000 characters,
 * button text to 75, value to 2000, at most 10 context elements). Text from outside is escaped so
 * it cannot mention @channel or forge links.
 */

/**
 * Slack's limits on one message, and where each comes from:
 *  - `blocks`: "You can include up to 50 blocks in each message"
 *    (https://docs.slack.dev/reference/block-kit/blocks); more is refused with `invalid_blocks`.
 *  - `sectionText`: a section's text is at most 3000 characters
 *    (https://docs.slack.dev/reference/block-kit/blocks/section-block); more: `invalid_blocks`.
 *  - `buttonText` 75, `buttonValue` 2000, `contextElements` 10: the button element and context
 *    block pages of the same reference.
 *  - `messageText`: the `text` field "accepts up to 40,000 characters"; chat.postMessage truncates
 *    beyond with a `message_truncated` warning, chat.update refuses with `msg_too_long`
 *    (https://api.slack.com/changelog/2018-04-truncating-really-long-messages).
 *  - `blocksText`: the text of all blocks together. Undocumented; Slack refuses more with
 *    `msg_blocks_too_long`, measured at ~12-13k characters and given by Slack's maintainers as
 *    "12,000 text characters" (https://github.com/slackapi/bolt-js/issues/2509).
 * Raptor stays below the edges: `fallbackText` for the notification text beside blocks, and
 * `blocksTextBudget` for all blocks of a message.
 */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  buttonText: 75,
  buttonValue: 2000,
  contextElements: 10,
  messageText: 40_000,
  blocksText: 12_000,
  /** What Raptor puts in `text` beside blocks (the notification line). */
  fallbackText: 3000,
  /** What Raptor puts in one message's blocks, all text together (below `blocksText`, whose exact edge Slack does not publish). */
  blocksTextBudget: 10_000,
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

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters, and shows the text's
 * control characters (ESC sequences, carriage returns, line separators, bidi overrides:
 * lib/control-chars.ts) as escapes, so user text cannot fake a line in the thread. Verbatim marks
 * are dropped.
 */
export function escapeMrkdwn(s: string): string {
  // Verbatim marks (lib/verbatim.ts) are for the terminal's rendering; Slack shows the text as it is.
  return showControls(withoutVerbatimMarks(s)).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
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
