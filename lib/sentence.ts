/**
 * Shortening a message for a one-line listing without cutting it mid-word or mid-sentence (pure).
 * Raptor's messages hold abbreviations (`e.g.`) and code spans (`` `deploy hello local` ``), so a
 * sentence ends only outside a code span, at `.` `!` or `?` that no abbreviation owns, before a
 * new sentence. `deploys` cut "write KEY=VALUE, e.g. `LOG_LEVEL=debug`" to "write KEY=VALUE, e.g"
 * and a long reason to "RAPTOR_PROC_TYP…" (new-user trial, finding 10).
 */

/** Words that end in a dot without ending a sentence. */
const ABBREVIATION = /(?:^|[\s(])(?:e\.g|i\.e|etc|vs|cf)$/i;

/**
 * The first sentence of `text`, its end mark kept (`"a. B"` → `"a."`). A code span is never split;
 * neither is a sentence at an abbreviation's dot (`e.g. \`x\``).
 */
export function firstSentence(text: string): string {
  let inCode = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "`") inCode = !inCode;
    if (inCode || !".!?".includes(ch)) continue;
    const next = text.slice(i + 1);
    if (!/^\s+[A-Z`"(]/.test(next)) continue;
    if (ch === "." && ABBREVIATION.test(text.slice(0, i))) continue;
    return text.slice(0, i + 1);
  }
  return text;
}

/**
 * `text` without its examples: an `(e.g. …)` aside is taken out, and a tail from `, e.g.` (or
 * ` e.g.`) on is dropped with what it exemplified kept (`write KEY=VALUE, e.g. \`X=1\`.` →
 * `write KEY=VALUE.`). Text that is only an example is left as it is.
 */
export function withoutExamples(text: string): string {
  const asides = text.replace(/\s*\((?:e\.g\.|for example)[^()]*\)/gi, "");
  const m = /[,;:]?\s+(?:e\.g\.|for example)\s/i.exec(asides);
  if (!m || m.index === 0) return asides;
  const end = /[.!?]$/.exec(asides.trimEnd())?.[0] ?? "";
  return `${asides.slice(0, m.index)}${end}`;
}

/**
 * `text` in at most `max` characters: whole when it fits; else without a final `(…)` aside when that
 * fits; else cut at the last space before `max` (outside a code span when there is one) with `…`.
 */
export function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const aside = /\s*\([^()]*\)([.!?]?)$/.exec(text);
  if (aside) {
    const without = `${text.slice(0, aside.index)}${aside[1]}`;
    if (without.length <= max) return without;
  }
  let cut = text.slice(0, max - 1);
  // Cut inside a word: back to the space before it (unless that loses more than half).
  const space = cut.search(/\s\S*$/);
  if (!/[\s,;:.!?)]/.test(text[max - 1]!) && space > max / 2) cut = cut.slice(0, space);
  // An unclosed code span would run on into whatever is printed next.
  if ((cut.match(/`/g)?.length ?? 0) % 2 === 1) cut = cut.slice(0, cut.lastIndexOf("`"));
  return `${cut.replace(/[\s,;:(]+$/, "")}…`;
}
