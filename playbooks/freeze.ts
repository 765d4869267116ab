/**
 * Freeze windows: when deploys to an environment are refused unless forced (`deploy!`).
 * All times are UTC. Forms (day names: Mon..Sun or Monday..Sunday, any case):
 *
 *   "Sat"                         the whole day
 *   "Sat - Sun"                   Sat 00:00 up to the end of Sun
 *   "Fri 16:00 - Mon 08:00"       weekly; may wrap past Sunday
 *   "Fri 16:00 - 23:00"           same day (next day when the end is earlier)
 *   "18:00 - 08:00"               every day
 *   "2024-12-24"                  one date
 *   "2024-12-20 - 2025-01-02"     dates, both whole days (spaces around the dash)
 *   "2024-12-24 12:00 - 2024-12-26 08:00"
 *
 * A start without a time is 00:00; an end without a time is the end of that day; ends are exclusive.
 */
import { didYouMean } from "../lib/suggest.ts";

const DAY = 1_440; // minutes
const WEEK = 7 * DAY;

export type FreezeWindow =
  /** Minutes since Monday 00:00; when `end <= start` the window wraps past Sunday midnight. */
  | { kind: "weekly"; text: string; start: number; end: number }
  /** Minutes since midnight, every day; wraps past midnight when `end <= start`. */
  | { kind: "daily"; text: string; start: number; end: number }
  /** Epoch milliseconds, `end` exclusive. */
  | { kind: "dates"; text: string; start: number; end: number };

export type FreezeParse = { ok: true; window: FreezeWindow } | { ok: false; error: string };

const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
const FULL_DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

type Point =
  | { kind: "day"; day: number; time?: number }
  | { kind: "date"; date: number; time?: number }
  | { kind: "time"; time: number };

class FreezeSyntaxError extends Error {}

function parseTime(text: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  const h = m ? Number(m[1]) : NaN;
  const min = m ? Number(m[2]) : NaN;
  if (!m || h > 24 || min > 59 || (h === 24 && min !== 0)) {
    throw new FreezeSyntaxError(`"${text}" is not a time (write HH:MM, 00:00 to 24:00)`);
  }
  return h * 60 + min;
}

function parseDay(word: string): number {
  const w = word.toLowerCase();
  const i = FULL_DAY_NAMES.findIndex((full) => full === w || full.slice(0, 3) === w);
  if (i < 0) throw new FreezeSyntaxError(`unknown day "${word}".${didYouMean(word, DAY_NAMES)}`.replace(/\.\s*$/, ""));
  return i;
}

function parseDate(y: string, m: string, d: string): number {
  const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const back = new Date(ms);
  if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(m) - 1 || back.getUTCDate() !== Number(d)) {
    throw new FreezeSyntaxError(`"${y}-${m}-${d}" is not a date`);
  }
  return ms;
}

function parsePoint(text: string): Point {
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\S+))?$/.exec(text);
  if (m) {
    const date = parseDate(m[1]!, m[2]!, m[3]!);
    return m[4] === undefined ? { kind: "date", date } : { kind: "date", date, time: parseTime(m[4]) };
  }
  m = /^([A-Za-z]+)(?:\s+(\S+))?$/.exec(text);
  if (m) {
    const day = parseDay(m[1]!);
    return m[2] === undefined ? { kind: "day", day } : { kind: "day", day, time: parseTime(m[2]) };
  }
  if (/^\d/.test(text)) return { kind: "time", time: parseTime(text) };
  throw new FreezeSyntaxError(`cannot read "${text}"`);
}

function splitRange(text: string): string[] {
  const spaced = text.split(/\s+-\s+/);
  if (spaced.length > 1 || /\d{4}-\d{2}/.test(text)) return spaced;
  return text.split(/\s*-\s*/);
}

function build(text: string, a: Point, b: Point | undefined): FreezeWindow {
  if (b === undefined) {
    if (a.kind === "day" && a.time === undefined) return { kind: "weekly", text, start: a.day * DAY, end: (a.day * DAY + DAY) % WEEK };
    if (a.kind === "date" && a.time === undefined) return { kind: "dates", text, start: a.date, end: a.date + DAY * 60_000 };
    throw new FreezeSyntaxError(`a window with a time needs an end, like "Fri 16:00 - Mon 08:00"`);
  }
  if (a.kind === "day" && (b.kind === "day" || b.kind === "time")) {
    const start = a.day * DAY + (a.time ?? 0);
    let end: number;
    if (b.kind === "day") end = (b.day * DAY + (b.time ?? DAY)) % WEEK;
    else {
      end = a.day * DAY + b.time;
      if (end <= start) end += DAY;
      end %= WEEK;
    }
    if (end === start) throw new FreezeSyntaxError("it ends where it starts");
    return { kind: "weekly", text, start, end };
  }
  if (a.kind === "time" && b.kind === "time") {
    if (a.time % DAY === b.time % DAY) throw new FreezeSyntaxError("it ends where it starts");
    return { kind: "daily", text, start: a.time % DAY, end: b.time % DAY };
  }
  if (a.kind === "date" && b.kind === "date") {
    const start = a.date + (a.time ?? 0) * 60_000;
    const end = b.date + (b.time ?? DAY) * 60_000;
    if (end <= start) throw new FreezeSyntaxError("it ends before it starts");
    return { kind: "dates", text, start, end };
  }
  throw new FreezeSyntaxError("both ends must be days (Fri 16:00), dates (2024-12-24) or times (18:00)");
}

/** Parses one window as written in a playbook. Pure. */
export function parseFreezeWindow(text: string): FreezeParse {
  const clean = text.trim().replace(/\s*[–—]\s*/g, " - ").replace(/\s+/g, " ");
  try {
    if (clean === "") throw new FreezeSyntaxError("it is empty");
    const parts = splitRange(clean);
    if (parts.length > 2) throw new FreezeSyntaxError("it has more than one dash");
    const a = parsePoint(parts[0]!);
    const b = parts[1] === undefined ? undefined : parsePoint(parts[1]);
    return { ok: true, window: build(text.trim(), a, b) };
  } catch (e) {
    if (e instanceof FreezeSyntaxError) return { ok: false, error: e.message };
    throw e;
  }
}

function within(start: number, end: number, at: number): boolean {
  return start < end ? at >= start && at < end : at >= start || at < end;
}

function covers(w: FreezeWindow, date: Date): boolean {
  const t = date.getTime();
  if (w.kind === "dates") return t >= w.start && t < w.end;
  const minuteOfDay = date.getUTCHours() * 60 + date.getUTCMinutes() + (date.getUTCSeconds() * 1000 + date.getUTCMilliseconds()) / 60_000;
  if (w.kind === "daily") return within(w.start, w.end, minuteOfDay);
  const dayOfWeek = (date.getUTCDay() + 6) % 7; // Monday = 0
  return within(w.start, w.end, dayOfWeek * DAY + minuteOfDay);
}

function toWindow(w: string | FreezeWindow): FreezeWindow {
  if (typeof w !== "string") return w;
  const parsed = parseFreezeWindow(w);
  // Playbooks are validated at load, so an unreadable window here is a programming error.
  if (!parsed.ok) throw new Error(`freeze window "${w}": ${parsed.error}`);
  return parsed.window;
}

/** The first window (as written) that covers `date`, or undefined. */
export function activeFreeze(windows: readonly (string | FreezeWindow)[], date: Date): string | undefined {
  for (const w of windows) {
    const window = toWindow(w);
    if (covers(window, date)) return window.text;
  }
  return undefined;
}

/** Whether any of `windows` covers `date` (UTC). */
export function isFrozen(windows: readonly (string | FreezeWindow)[], date: Date): boolean {
  return activeFreeze(windows, date) !== undefined;
}

/** When the window `w`, covering `date`, next ends (UTC). */
function windowEnd(w: FreezeWindow, date: Date): Date {
  if (w.kind === "dates") return new Date(w.end);
  const t = date.getTime();
  const minuteOfDay = date.getUTCHours() * 60 + date.getUTCMinutes() + (date.getUTCSeconds() * 1000 + date.getUTCMilliseconds()) / 60_000;
  const period = w.kind === "daily" ? DAY : WEEK;
  const now = w.kind === "daily" ? minuteOfDay : ((date.getUTCDay() + 6) % 7) * DAY + minuteOfDay;
  const ahead = (w.end - now + period) % period || period;
  return new Date(Math.round((t + ahead * 60_000) / 60_000) * 60_000);
}

/**
 * When deploys open again: the first moment after `date` that no window covers (following
 * windows that overlap or touch), or undefined when none covers `date`. UTC, like the windows.
 */
export function freezeEndsAt(windows: readonly (string | FreezeWindow)[], date: Date): Date | undefined {
  let at = date;
  let moved = false;
  for (let i = 0; i < 20; i++) {
    const covering = windows.map(toWindow).filter((w) => covers(w, at));
    if (covering.length === 0) return moved ? at : undefined;
    at = new Date(Math.max(...covering.map((w) => windowEnd(w, at).getTime())));
    moved = true;
  }
  return at;
}
