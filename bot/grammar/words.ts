/**
 * From raw chat text to words: length limit, Slack markup, word splitting, and the character
 * checks that keep lookalike, invisible and control characters out of command words.
 */

/** Longer messages are refused before any other work, so parsing cost stays bounded. */
export const MAX_LENGTH = 2000;

/** Thrown by grammar helpers; `parse` turns it into `{ ok: false, error }`. Nothing else is caught. */
export class GrammarError extends Error {}

export function fail(message: string): never {
  throw new GrammarError(message);
}

/**
 * Word separators: ASCII whitespace plus the no-break and typographic spaces that chat clients
 * and phones insert. Zero-width characters (U+200B, U+FEFF, ...) are deliberately not separators:
 * they are reported, because a word that contains one is not the word it looks like.
 */
const SPACE_CLASS = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WORD = new RegExp(`[^${SPACE_CLASS}]+`, "g");
const SPACES = new RegExp(`[${SPACE_CLASS}]+`, "g");
const EDGE_SPACES = new RegExp(`^[${SPACE_CLASS}]+|[${SPACE_CLASS}]+$`, "g");

/** A word and where it sits in the normalized text (free-text parts are cut from the text). */
export interface Word {
  text: string;
  start: number;
  end: number;
}

/** Length in code points (what a person would call characters), without allocating. */
export function charCount(s: string): number {
  let n = s.length;
  for (let i = 0; i + 1 < s.length; i++) {
    const hi = s.charCodeAt(i);
    const lo = s.charCodeAt(i + 1);
    if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
      n--;
      i++;
    }
  }
  return n;
}

/** `<@U123>`, `<@U123|raptor>`, optionally followed by `:` or `,` (as in "@raptor: deploy"). */
const MENTION = /^[\s\u00a0]*<@[UW][A-Z0-9]+(?:\|[^<>]*)?>[:,]?/;
/** Slack autolinks (`<https://x|x>`, `<mailto:a@b.io|a@b.io>`) are shown to people as their label. */
const LINK = /<((?:https?|mailto):[^<>|\s]*)(?:\|([^<>]*))?>/g;
const ENTITY = /&(amp|lt|gt);/g;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">" };

/**
 * Undo Slack's message markup: leading bot mentions are dropped, autolinks become their label,
 * and `&amp;` `&lt;` `&gt;` are decoded in one pass (so `&amp;lt;` stays `&lt;`). A message wrapped
 * whole in one pair of backticks (code formatting) is unwrapped; backticks anywhere else stay and
 * are rejected by the word checks.
 */
export function normalize(raw: string): { text: string; mentioned: boolean } {
  let text = raw;
  let mentioned = false;
  for (let m = MENTION.exec(text); m; m = MENTION.exec(text)) {
    text = text.slice(m[0].length);
    mentioned = true;
  }
  text = text
    .replace(LINK, (_all, url: string, label: string | undefined) => label ?? url.replace(/^mailto:/, ""))
    .replace(ENTITY, (_all, name: string) => ENTITIES[name] ?? "")
    .replace(EDGE_SPACES, "");
  const code = /^`([^`]+)`$/.exec(text);
  if (code) text = code[1]!.replace(EDGE_SPACES, "");
  return { text, mentioned };
}

export function splitWords(text: string): Word[] {
  return Array.from(text.matchAll(WORD), (m) => ({ text: m[0], start: m.index, end: m.index + m[0].length }));
}

/** Whitespace runs (newlines included) become one space: for reasons, which are one line. */
export function collapseSpaces(text: string): string {
  return text.replace(SPACES, " ").replace(EDGE_SPACES, "");
}

/** A word as shown in an error: quoted, cut at 40 characters. */
export function show(word: string): string {
  const cps = Array.from(word);
  return `"${cps.length > 40 ? `${cps.slice(0, 40).join("")}…` : word}"`;
}

export function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Letters from other scripts that render like Latin ones (Cyrillic, Greek, a few others).
 * Fullwidth and mathematical letters are found by NFKC instead.
 */
const HOMOGLYPHS = new Set(
  Array.from("аАвВеЕёкКмМнНоОрРсСтТуУхХіІїјЈѕЅԁһҺүԛԜԝɡօոսΑΕΖΗΙΚΜΝΟΡΤΥΧαικνορτυχ"),
);

const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}]/u;
const CONTROL = /\p{Cc}/u;
const MARK = /[\p{Mn}\p{Me}]/u;
const SURROGATE = /\p{Cs}/u;
/** Characters a person cannot see: dropped when a word is echoed back. */
const UNSEEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Mn}\p{Me}]/gu;

function looksLike(ch: string): string | undefined {
  const n = ch.normalize("NFKC");
  if (/^[A-Za-z]$/.test(n) || HOMOGLYPHS.has(ch)) return "a Latin letter";
  if (/^[0-9]$/.test(n)) return "a digit";
  if (/^[\x21-\x7e]$/.test(n)) return `"${n}"`;
  return undefined;
}

/**
 * Why `word` cannot be a command word, if it contains anything outside printable ASCII
 * (U+0021..U+007E): names the character, its code point and, for lookalikes, what it imitates.
 */
export function charProblem(word: string): string | undefined {
  let prefix = "";
  for (const ch of word) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x21 && cp <= 0x7e) {
      prefix += ch;
      continue;
    }
    const seen = word.replace(UNSEEN, "");
    const where = prefix.replace(UNSEEN, "") === "" ? "at its start" : `after ${show(prefix.replace(UNSEEN, ""))}`;
    let what: string | undefined;
    if (CONTROL.test(ch)) what = "a control character";
    else if (SURROGATE.test(ch)) what = "a broken character";
    else if (INVISIBLE.test(ch)) what = "an invisible character";
    else if (MARK.test(ch)) what = "a combining mark";
    if (what) {
      if (seen === "") return `the command has ${what} (${codePoint(ch)}) between words. Retype it in plain ASCII.`;
      return `${show(seen)} contains ${what} (${codePoint(ch)}) ${where}. Retype it in plain ASCII.`;
    }
    const like = looksLike(ch);
    if (like) return `${show(word)} contains "${ch}" (${codePoint(ch)}), which only looks like ${like}. Retype it in plain ASCII.`;
    return `${show(word)} contains "${ch}" (${codePoint(ch)}), which is not plain ASCII. Commands use ASCII letters, digits and punctuation.`;
  }
  return undefined;
}

/**
 * Free text (reasons, quoted values) may hold any printable character, non-ASCII included, but no
 * control or invisible characters. U+200D (zero-width joiner) is allowed: emoji sequences need it;
 * so is a tab where `opts.tabs` says so (a quoted config value is kept exactly as typed).
 */
export function freeTextProblem(text: string, what: string, opts: { tabs?: boolean } = {}): string | undefined {
  for (const ch of text) {
    if (ch === "\u200d" || (ch === "\t" && opts.tabs)) continue;
    if (CONTROL.test(ch)) return `${what} contains a control character (${codePoint(ch)}). Remove it and send again.`;
    if (SURROGATE.test(ch)) return `${what} contains a broken character (${codePoint(ch)}). Remove it and send again.`;
    if (INVISIBLE.test(ch)) return `${what} contains an invisible character (${codePoint(ch)}). Remove it and send again.`;
  }
  return undefined;
}

const ONE_SPACE = new RegExp(`^[${SPACE_CLASS}]$`);

/** Whether one character separates words. */
export function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && ONE_SPACE.test(ch);
}

/** Opening quote -> the characters that close it. Slack turns "..." into “...” as people type. */
export const QUOTES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  "“": "”“",
  "”": "”",
  "‘": "’‘",
  "’": "’",
};
