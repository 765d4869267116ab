/**
 * The time a lock is taken for, read from the words after `lock <app> <env>` (pure).
 *
 * A lock takes one word of digits and units (`2h`, `90m`, `1h30m`, `3d`); everything after it is
 * the reason. A time written any other way (`2 hours`, `2hrs`, `30 mins`, `1 day`, `1h 30m`) is
 * refused with the form a lock takes, never kept as the reason: that locked the environment with
 * no end, the reason "2 hours" the only trace of what was meant (new-user trial, finding 5).
 * A reason that starts with such words can still be written in quotes.
 */

import { parseDuration } from "../../playbooks/duration.ts";
import { durationText } from "../../lib/time-text.ts";
import { show } from "./words.ts";

/** The shortest lock that may be given a time: shorter, and it ends before anyone reads it. */
export const MIN_LOCK_MS = 60_000;
/** The longest a lock may be taken for: past that, lock without a time and unlock by hand. */
export const MAX_LOCK_MS = 30 * 86_400_000;

/** A word that is a time as a lock takes it: digits and units only (`2h`, `1h30m`, `90s`). */
const DURATION_WORD = /^\d+(?:\.\d+)?(?:ms|s|m|h|d)(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))*$/i;
const NUMBER = /^(?:\d+(?:\.\d+)?|an?)$/i;
/** Units as people spell them, in words or abbreviations, to milliseconds. */
const UNIT_WORDS: [RegExp, number][] = [
  [/^(?:s|secs?|seconds?)$/i, 1_000],
  [/^(?:m|mins?|minutes?)$/i, 60_000],
  [/^(?:h|hrs?|hours?)$/i, 3_600_000],
  [/^(?:d|days?)$/i, 86_400_000],
  [/^(?:w|wks?|weeks?)$/i, 7 * 86_400_000],
];
/** One word with the unit spelled out or abbreviated: `2hours`, `2hrs`, `30min`, `1w`. */
const SPELLED_WORD = /^(\d+(?:\.\d+)?)([a-z]+)$/i;

/** What the words after the target say about the lock's time. */
export type LockTime =
  /** No time given: the lock lasts until `unlock`; the reason starts at the first word. */
  | { kind: "none" }
  /** A time the lock takes, in its first word. */
  | { kind: "time"; ms: number }
  /** A time the lock cannot take: `message` is for the person, with the form to type instead. */
  | { kind: "refused"; message: string };

function unitMs(word: string | undefined): number | undefined {
  if (word === undefined) return undefined;
  return UNIT_WORDS.find(([re]) => re.test(word))?.[1];
}

function amount(word: string): number {
  return /^an?$/i.test(word) ? 1 : Number(word);
}

/**
 * Read a time spelled in another way from `words[at]` on: `2 hours`, `2hrs`, `1 hour 30 minutes`,
 * `1h 30m`, `an hour`. Returns its length and how many words it took, or undefined when the words
 * there are not a time (`2fa`, `db`, `2 deploys`).
 */
function spelledTime(words: readonly string[], at: number): { ms: number; words: number } | undefined {
  let ms = 0;
  let i = at;
  for (;;) {
    const w = words[i];
    if (w === undefined) break;
    const one = SPELLED_WORD.exec(w);
    const oneUnit = one ? unitMs(one[2]) : undefined;
    if (DURATION_WORD.test(w)) {
      ms += parseDuration(w.toLowerCase()) ?? 0;
      i += 1;
    } else if (one && oneUnit !== undefined) {
      ms += Number(one[1]) * oneUnit;
      i += 1;
    } else if (NUMBER.test(w) && unitMs(words[i + 1]) !== undefined) {
      ms += amount(w) * unitMs(words[i + 1])!;
      i += 2;
    } else {
      break;
    }
  }
  const taken = i - at;
  // One word the lock takes as it is (`2h`) is not "spelled another way".
  if (taken === 0 || (taken === 1 && DURATION_WORD.test(words[at]!))) return undefined;
  return { ms: Math.round(ms), words: taken };
}

type Range = "zero" | "short" | "long";

function range(ms: number): Range | undefined {
  if (ms === 0) return "zero";
  if (ms < MIN_LOCK_MS) return "short";
  if (ms > MAX_LOCK_MS) return "long";
  return undefined;
}

const MIN = durationText(MIN_LOCK_MS);
const MAX = durationText(MAX_LOCK_MS);
const UNTIL_UNLOCK = "leave the time out to lock until `unlock`";

/**
 * Read the lock's time from `words` (the words after `lock <app> <env>`, as typed); `target` is
 * `<app> <env>`, for the examples in messages.
 * Refused: a time out of 1m..30d (`10s`, `45d`), a signed or zero time (`-5h`, `+2h`, `0`), and
 * a time in any spelling but one word of digits and m/h/d (`2 hours`, `2hrs`, `1h 30m`), which is
 * offered back as the lock writes it when it is in range. Anything else is the reason.
 */
export function readLockTime(words: readonly string[], target: string): LockTime {
  const first = words[0];
  if (first === undefined) return { kind: "none" };
  const example = `e.g. \`lock ${target} 2h migrating\``;
  const refuse = (message: string): LockTime => ({ kind: "refused", message });
  const outOfRange = (written: string, r: Range): LockTime => {
    if (r === "zero") return refuse(`${show(written)} is not a lock duration (a lock for no time would end at once; ${UNTIL_UNLOCK}): write one from ${MIN} to ${MAX}, ${example}.`);
    if (r === "short") return refuse(`${show(written)} is too short for a lock: a lock with a time lasts at least ${MIN}, ${example}.`);
    return refuse(`${show(written)} is too long for a lock: a lock with a time lasts at most ${MAX}; ${UNTIL_UNLOCK}.`);
  };
  if (/^[-\u2212]\d/.test(first)) return refuse(`${show(first)} is not a lock duration (a lock cannot last a negative time): write one from ${MIN} to ${MAX}, ${example}.`);
  if (/^\+\d/.test(first)) return refuse(`${show(first)} is not a lock duration (write the time without a sign): write one from ${MIN} to ${MAX}, ${example}.`);
  if (/^0+(?:\.0+)?$/.test(first) && unitMs(words[1]) === undefined) return outOfRange(first, "zero");
  const spelled = spelledTime(words, 0);
  if (spelled) {
    const written = words.slice(0, spelled.words).join(" ");
    const r = range(spelled.ms);
    if (r) return outOfRange(written, r);
    const rest = words.slice(spelled.words).join(" ");
    const instead = `lock ${target} ${durationText(spelled.ms)}${rest === "" ? "" : rest.length > 40 || rest.includes("`") ? " …" : ` ${rest}`}`;
    return refuse(
      `${show(written)} is not a lock duration: did you mean \`${instead}\`? A lock's time is one word, such as 90m, 2h or 3d. ` +
        `To lock until \`unlock\` with ${show(written)} as the reason, put the reason in quotes.`,
    );
  }
  if (DURATION_WORD.test(first)) {
    const ms = parseDuration(first.toLowerCase());
    if (ms === undefined) return refuse(`${show(first)} is not a lock duration: write one from ${MIN} to ${MAX}, ${example}.`);
    const r = range(ms);
    return r ? outOfRange(first, r) : { kind: "time", ms };
  }
  return { kind: "none" };
}
