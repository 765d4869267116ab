import type { Redis } from "ioredis";
import { eventStreamKey, parseStreamEntry } from "../engine/events.ts";
import { beatReportLine } from "./notify/terminal-lines.ts";

/**
 * The beat's news in the terminal chat: a host down or back, orphans removed, a timed lock
 * released. The beat says each once per channel of the environment (engine/beat/report.ts); with
 * no Slack, the terminal is the only chat there is, so it shows every report once, whatever
 * channel it was meant for.
 */

/**
 * Pure: whether a report is news, or the same report again for another channel. Reports of one
 * job with the same text within `windowMs` are one.
 */
export function newsFilter(windowMs = 60_000): (report: { job: string; text: string }, nowMs: number) => boolean {
  const seen = new Map<string, number>();
  return ({ job, text }, nowMs) => {
    for (const [k, at] of seen) if (nowMs - at > windowMs) seen.delete(k);
    const key = `${job}\n${text}`;
    if (seen.has(key)) return false;
    seen.set(key, nowMs);
    return true;
  };
}

/**
 * Prints each beat report emitted from now on as one line, until `signal` aborts. `conn` is a
 * dedicated connection (XREAD BLOCK holds it); the caller closes it.
 */
export async function watchBeatReports(conn: Redis, prefix: string, print: (line: string) => void, signal: AbortSignal): Promise<void> {
  const key = eventStreamKey(prefix);
  const isNews = newsFilter();
  // From the stream's current end (not "$" on every read, which would skip what lands between reads).
  const [newest] = (await conn.xrevrange(key, "+", "-", "COUNT", 1)) as [string, string[]][];
  let last = newest?.[0] ?? "0-0";
  while (!signal.aborted) {
    const res = (await conn.xread("COUNT", 500, "BLOCK", 1000, "STREAMS", key, last)) as [string, [string, string[]][]][] | null;
    for (const [, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        last = id;
        const e = parseStreamEntry(id, fields);
        if (e?.type === "beat.report" && isNews(e, Date.now())) print(beatReportLine(e));
      }
    }
  }
}
