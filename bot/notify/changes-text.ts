import { age } from "../../lib/time-text.ts";
import { MAX_LISTED_COMMITS, type CommitRange, type ConfigDiff } from "../../engine/changes/types.ts";
import type { RevertTarget } from "../../engine/event-types.ts";
import { plural } from "../../lib/plural.ts";

/**
 * Plain-text lines for a change's commits and config diff, shared by `plan`, `releases`, the
 * terminal thread and (escaped) the Slack head, summary and Rollback confirmation. Pure. Commit
 * subjects and authors are repo text: callers that write Slack markup escape these lines.
 */

/** Longest subject shown; a commit message's first line can be anything. */
const SUBJECT_MAX = 72;

function cut(s: string, max: number): string {
  const cps = Array.from(s.replace(/[\r\n\t]+/g, " "));
  return cps.length > max ? `${cps.slice(0, max - 1).join("")}…` : cps.join("");
}

/** `abc1234..def5678`, or `def5678` when nothing served before. */
export function rangeLabel(r: Pick<CommitRange, "from" | "to">): string {
  return r.from && r.from !== r.to ? `${r.from}..${r.to}` : r.to;
}

/**
 * The commits of a range, one per line, newest first: `+ sha subject — author` for commits that
 * come, `- sha ...` for commits that leave (a rollback), "… and N more" past MAX_LISTED_COMMITS.
 * `indent` prefixes every line.
 */
export function commitLines(r: CommitRange, indent = "  "): string[] {
  const lines: string[] = [];
  if (r.addedCount === 0 && r.removedCount === 0) return [`${indent}no commits change (${r.to} serves already)`];
  const side = (sign: string, list: CommitRange["added"], count: number) => {
    for (const c of list.slice(0, MAX_LISTED_COMMITS)) lines.push(`${indent}${sign} ${c.sha} ${cut(c.subject, SUBJECT_MAX)} — ${cut(c.author, 40)}`);
    if (count > Math.min(list.length, MAX_LISTED_COMMITS)) lines.push(`${indent}  … and ${count - Math.min(list.length, MAX_LISTED_COMMITS)} more`);
  };
  side("+", r.added, r.addedCount);
  side("-", r.removed, r.removedCount);
  return lines;
}

/** "3 new commits", "2 commits taken back", "1 new commit, 4 taken back". */
export function commitCount(r: Pick<CommitRange, "addedCount" | "removedCount">): string {
  const parts: string[] = [];
  if (r.addedCount) parts.push(`${plural(r.addedCount, "new commit")}`);
  if (r.removedCount) parts.push(`${plural(r.removedCount, "commit")} taken back`);
  return parts.join(", ") || "no commit changes";
}

/** `+ KEY=value`, `~ KEY: old → new`, `- KEY`, one per line (values already masked). */
export function configLines(d: ConfigDiff, indent = "  "): string[] {
  if (d.added.length + d.changed.length + d.removed.length === 0) return [`${indent}no config changes`];
  return [
    ...d.added.map((a) => `${indent}+ ${a.key}=${cut(a.value, 120)}`),
    ...d.changed.map((c) => `${indent}~ ${c.key}: ${cut(c.from, 60)} → ${cut(c.to, 60)}`),
    ...d.removed.map((k) => `${indent}- ${k}`),
  ];
}

/** One line for a config diff, keys only: "+NEW ~GREETING -OLD", or "no config changes". */
export function configKeysLine(d: ConfigDiff): string {
  const parts = [...d.added.map((a) => `+${a.key}`), ...d.changed.map((c) => `~${c.key}`), ...d.removed.map((k) => `-${k}`)];
  return parts.length ? parts.join(" ") : "no config changes";
}

/** "45s", "3m", "5h", "2d": how long before `now` `then` was. */
export { age };

/**
 * What a rollback would revert to, in one sentence: "v3 (commit abc1234, cut 2h ago); config:
 * ~GREETING: howdy → hi". `now` is when the sentence is shown (the summary's time).
 */
export function revertText(r: RevertTarget, now: Date): string {
  const commit = r.commit ? `commit ${r.commit}, ` : "";
  const d = r.config;
  const parts = [
    ...d.added.map((a) => `+${a.key}=${cut(a.value, 40)}`),
    ...d.changed.map((c) => `~${c.key}: ${cut(c.from, 30)} → ${cut(c.to, 30)}`),
    ...d.removed.map((k) => `-${k}`),
  ];
  return `v${r.release} (${commit}cut ${age(new Date(r.createdAt), now)} ago); config: ${parts.length ? parts.join(", ") : "the same"}`;
}
