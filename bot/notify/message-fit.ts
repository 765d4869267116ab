import { plural } from "../../lib/plural.ts";
import { showControls } from "../../lib/control-chars.ts";
import { clip } from "./format.ts";
import { context, escapeMrkdwn, section, SLACK_LIMITS, type Block } from "./block-kit.ts";
import { toMrkdwn, toPlain } from "./markup.ts";

/**
 * Pure: makes one Slack message out of text of any size, within every limit Slack puts on a
 * message (SLACK_LIMITS, with their sources), so no reply is ever sent as one oversized message
 * that Slack refuses (`invalid_blocks`, `msg_blocks_too_long`, `msg_too_long`) or cuts silently.
 *
 * What does not fit is cut at line boundaries from the end people care less about (the start of a
 * log, the end of a list), and a note says how much was cut and how to see the rest.
 */

/** Which end of an overflowing answer is kept: a log's tail (where the error is), a list's head. */
export type Keep = "head" | "tail";

/** What was left out of a message. */
export interface Cut {
  lines: number;
  /** Characters of the original text left out. */
  chars: number;
}

export interface FittedMessage {
  /** The notification text sent beside the blocks (escaped, within SLACK_LIMITS.fallbackText). */
  text: string;
  blocks: Block[];
  /** Set when part of the text was left out. */
  cut?: Cut;
}

/** Characters of text a message's blocks carry, as Slack counts them toward `msg_blocks_too_long`. */
export function blocksTextLength(blocks: readonly Block[]): number {
  let n = 0;
  for (const b of blocks) {
    if (b.type === "section") n += b.text.text.length;
    else if (b.type === "context") for (const e of b.elements) n += e.text.length;
    else if (b.type === "actions") for (const e of b.elements) n += e.text.text.length + e.value.length;
  }
  return n;
}

/** Whether a message is within all of Slack's limits (the budget Raptor keeps, not the edge). */
export function fitsOneMessage(m: { text: string; blocks: readonly Block[] }): boolean {
  return (
    m.blocks.length <= SLACK_LIMITS.blocks &&
    m.text.length <= SLACK_LIMITS.messageText &&
    blocksTextLength(m.blocks) <= SLACK_LIMITS.blocksTextBudget &&
    m.blocks.every((b) => b.type !== "section" || b.text.text.length <= SLACK_LIMITS.sectionText)
  );
}

/** "1.2 kB", "128 kB", "340 B": how much was cut, for the note. */
export function sizeText(chars: number): string {
  if (chars < 1000) return `${chars} B`;
  if (chars < 10_000) return `${(chars / 1000).toFixed(1)} kB`;
  return `${Math.round(chars / 1000)} kB`;
}

/** Lines of `lines` from the kept end whose escaped text fits `budget` characters (joined with "\n"). */
function keepLines(lines: readonly string[], keep: Keep, budget: number): { kept: string[]; dropped: string[] } {
  const order = keep === "tail" ? [...lines].reverse() : [...lines];
  const kept: string[] = [];
  let size = 0;
  for (const raw of order) {
    const line = clip(raw, SLACK_LIMITS.sectionText - 20);
    const add = escapeMrkdwn(line).length + (kept.length > 0 ? 1 : 0);
    if (size + add > budget) break;
    kept.push(line);
    size += add;
  }
  const dropped = order.slice(kept.length);
  return keep === "tail" ? { kept: kept.reverse(), dropped: dropped.reverse() } : { kept, dropped };
}

/** Escaped lines packed into sections of at most `size` characters, line boundaries kept. */
function pack(lines: readonly string[], size: number): string[] {
  const parts: string[] = [];
  let cur = "";
  for (const line of lines.map((l) => toMrkdwn(escapeMrkdwn(l)))) {
    if (cur.length > 0 && cur.length + 1 + line.length > size) {
      parts.push(cur);
      cur = line;
    } else {
      cur = cur.length > 0 ? `${cur}\n${line}` : line;
    }
  }
  if (cur.length > 0) parts.push(cur);
  return parts.length > 0 ? parts : [" "];
}

/** The note under (tail: above) a cut answer: what was left out, and how to see it. */
export function cutNote(cut: Cut, keep: Keep, more: string | undefined): string {
  const which = keep === "tail" ? "earlier" : "more";
  const how = more ? ` ${more}` : "";
  return `… ${plural(cut.lines, `${which} line`)} (${sizeText(cut.chars)}) not shown.${how}`;
}

/**
 * One message for a titled answer of any length: the title, then the text in sections. When the
 * text does not fit, the kept end (`keep`) fills the budget and a note says what was cut and `more`
 * (how to see the rest, e.g. "The whole log is in the file above." or "`logs hello local web 100`
 * shows fewer lines."). User text is escaped.
 */
export function fitAnswer(title: string, text: string, opts: { keep?: Keep; more?: string } = {}): FittedMessage {
  const keep = opts.keep ?? "head";
  const head = `*${escapeMrkdwn(clip(title, 200))}*`;
  const lines = text.split("\n");
  // Room for the title and the note, so the whole message stays within the blocks' text budget.
  const budget = SLACK_LIMITS.blocksTextBudget - head.length - 400;
  const { kept, dropped } = keepLines(lines, keep, budget);
  const cut: Cut | undefined = dropped.length > 0 ? { lines: dropped.length, chars: dropped.reduce((n, l) => n + l.length + 1, 0) } : undefined;
  const body = pack(kept, SLACK_LIMITS.sectionText - 10).map((p) => section(p));
  const note = cut ? [context(`_${escapeMrkdwn(cutNote(cut, keep, opts.more))}_`)] : [];
  const blocks: Block[] = keep === "tail" ? [section(head), ...note, ...body] : [section(head), ...body, ...note];
  const summary = cut ? `${title} (${cutNote(cut, keep, undefined)})` : `${title}\n${text}`;
  // The notification line is read as plain text by most clients: emphasis marks are dropped.
  return { text: clip(escapeMrkdwn(toPlain(summary)), SLACK_LIMITS.fallbackText), blocks, ...(cut ? { cut } : {}) };
}

/**
 * The last guard before any message leaves for Slack: shows its texts' control characters
 * (lib/control-chars.ts); returns it otherwise unchanged when it fits, else
 * keeps the blocks from the start that fit (the head of a thread message is its point) and ends
 * with a note of how many blocks were left out. `text` is clipped to the fallback length.
 */
export function guardMessage(given: { text: string; blocks: Block[] }): { text: string; blocks: Block[] } {
  // The last stop before Slack: no control character of any text (a build log in a code block
  // included) reaches the channel working (lib/control-chars.ts). Button values are left as they are.
  const m = { text: showControls(given.text), blocks: given.blocks.map((b) => showTextControls(b)) };
  const text = clip(m.text, SLACK_LIMITS.fallbackText);
  if (fitsOneMessage({ text, blocks: m.blocks })) return { text, blocks: m.blocks };
  const out: Block[] = [];
  let size = 0;
  const room = SLACK_LIMITS.blocksTextBudget - 200;
  for (const b of m.blocks) {
    const fixed = b.type === "section" && b.text.text.length > SLACK_LIMITS.sectionText ? section(b.text.text, b.block_id) : b;
    const n = blocksTextLength([fixed]);
    if (out.length >= SLACK_LIMITS.blocks - 1 || size + n > room) break;
    out.push(fixed);
    size += n;
  }
  const left = m.blocks.length - out.length;
  if (left > 0) out.push(context(`_… ${plural(left, "more part")} of this message not shown: it was larger than one Slack message holds._`));
  return { text, blocks: out };
}

/** Pure: a copy of `value` with `showControls` applied to every string under a `text` key. */
function showTextControls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => showTextControls(v)) as T;
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "text" && typeof v === "string" ? showControls(v) : showTextControls(v)])) as T;
}
