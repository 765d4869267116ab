import { plural } from "../../lib/plural.ts";
import type { ThreadState } from "./thread.ts";

/** Small pure helpers shared by the Slack and terminal renderers. */

export { plural, procsOnHosts } from "../../lib/plural.ts";

/** 312 -> "312ms", 4200 -> "4.2s", 72_000 -> "1m 12s", 3_720_000 -> "1h 02m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(Math.round(ms / 100) / 10).toFixed(1)}s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${String(totalS % 60).padStart(2, "0")}s`;
  const totalM = Math.round(totalS / 60);
  return `${Math.floor(totalM / 60)}h ${String(totalM % 60).padStart(2, "0")}m`;
}

/** Where a deployment's thread goes, from the `origin` of deployment.queued. */
export type Origin = { kind: "terminal" } | { kind: "slack"; channel: string; threadTs?: string } | { kind: "unknown"; raw: string };

export function parseOrigin(origin: string): Origin {
  if (origin === "terminal") return { kind: "terminal" };
  // A channel id from Slack's events, or a `#name` from the playbook (the beat's reports and
  // digests go to the channels environments bind); chat.postMessage takes either.
  const m = /^slack:([A-Z0-9]+|#[a-z0-9][a-z0-9._-]{0,79})(?::(\d+\.\d+))?$/.exec(origin);
  if (m) return m[2] !== undefined ? { kind: "slack", channel: m[1]!, threadTs: m[2] } : { kind: "slack", channel: m[1]! };
  return { kind: "unknown", raw: origin };
}

export function slackOrigin(channel: string, threadTs?: string): string {
  return threadTs ? `slack:${channel}:${threadTs}` : `slack:${channel}`;
}

export interface Truncated {
  text: string;
  /** Lines dropped from the start (0 when nothing was dropped). */
  omittedLines: number;
}

/**
 * Keeps the tail of `text` within `maxChars` (logs: the end is where the error is), cutting at a
 * line boundary. A single line longer than the budget keeps its last `maxChars` characters.
 */
export function truncateTail(text: string, maxChars: number): Truncated {
  if (text.length <= maxChars) return { text, omittedLines: 0 };
  const lines = text.split("\n");
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const add = line.length + (kept.length > 0 ? 1 : 0);
    if (size + add > maxChars) {
      if (kept.length === 0) {
        kept.unshift(line.slice(line.length - maxChars));
        return { text: kept.join("\n"), omittedLines: i };
      }
      return { text: kept.join("\n"), omittedLines: i + 1 };
    }
    kept.unshift(line);
    size += add;
  }
  return { text: kept.join("\n"), omittedLines: 0 };
}

export function omittedNote(n: number): string {
  return `… ${plural(n, "earlier line")} not shown`;
}

/** Cuts a single-line string to `max` characters with an ellipsis. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * A thread's title verb: its kind's (kindVerb), but "Promote" for a deploy asked for with
 * `promote` (a deploy of the build serving another environment). Every title, head and outcome
 * line of a thread, Slack's and the terminal's, starts with it. Pure.
 */
export function threadVerb(s: { kind: string; promotedFrom?: string }): string {
  return s.kind === "deploy" && s.promotedFrom !== undefined ? "Promote" : kindVerb(s.kind);
}

/** The title verb of a deployment kind; a thread's is threadVerb (a promote is a deploy). */
export function kindVerb(kind: string): string {
  switch (kind) {
    case "deploy":
      return "Deploy";
    case "rollback":
      return "Rollback";
    case "scale":
      return "Scale";
    case "restart":
      return "Restart";
    case "config":
      return "Config change";
    case "repair":
      return "Repair";
    default:
      return kind;
  }
}

/**
 * What a deployment that left no listening proc says instead of "serving" and "reachable at"
 * (new-user trial: `scale! hello local web=0` said "v18 serving", "reachable at
 * http://127.0.0.1:8080" while nginx answered 502): `hello local now runs no procs; nothing
 * serves http://127.0.0.1:8080, its pool hello_local is empty (scale hello local web=N to bring it
 * back)`. `anyProcs`: procs without a port (workers) still run. Plain text. Pure.
 */
export function idleText(app: string, env: string, idle: { pool?: string; zeroed: readonly string[] }, url: string | undefined, anyProcs: boolean): string {
  const runs = `${app} ${env} now runs no ${anyProcs ? "listening " : ""}procs`;
  const pool = idle.pool ? `${url ? ", its" : "; its"} pool ${idle.pool} is empty` : "";
  const serves = url ? `; nothing serves ${url}${pool}` : pool;
  const back = idle.zeroed.length ? ` (scale ${app} ${env} ${idle.zeroed.map((t) => `${t}=N`).join(" ")} to bring it back)` : "";
  return `${runs}${serves}${back}`;
}

/** Deployment kinds that cut a new release (scale and restart run the serving one). */
export function cutsRelease(kind: string): boolean {
  return kind === "deploy" || kind === "config" || kind === "rollback";
}

/**
 * What a deployment does to the serving release, as far as its events have told: the one rule
 * both renderers (Slack and terminal) phrase, so neither announces a release that was not cut.
 *  - `pending`: it may cut one; the release step decides (a deploy of what already serves cuts none).
 *  - `new`: `to` replaced `from` (absent on a first deploy).
 *  - `same`: `release` served before and serves after (scale, restart, a deploy that changed nothing).
 *  - `none`: no release is known (nothing was ever deployed).
 */
export type ReleaseChange =
  | { kind: "pending"; serving?: number }
  | { kind: "new"; from?: number; to: number }
  | { kind: "same"; release: number }
  | { kind: "none" };

export function releaseChange(s: Pick<ThreadState, "kind" | "fromRelease" | "toRelease" | "result">): ReleaseChange {
  const { fromRelease: from, toRelease: to } = s;
  if (!cutsRelease(s.kind) || s.result?.unchanged) {
    const r = to ?? from;
    return r !== undefined ? { kind: "same", release: r } : { kind: "none" };
  }
  if (to === undefined) return from !== undefined ? { kind: "pending", serving: from } : { kind: "pending" };
  if (from === to) return { kind: "same", release: to };
  return from !== undefined ? { kind: "new", from, to } : { kind: "new", to };
}
