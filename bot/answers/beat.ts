import { beatJobRunning, lastFinishedBeatRun } from "../../db/queries/beat-runs.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import { leaseKey, nextRunOf, scheduledJobs } from "../../engine/beat/schedule.ts";
import type { Reply } from "../dispatch-types.ts";
import { utcTimeFrom } from "../../lib/time-text.ts";


/** A run's detail in a few words: the non-empty counts ("expired 1, released 2"). */
export function describeRun(detail: Record<string, unknown>): string {
  if (typeof detail.error === "string") return `error: ${detail.error}`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(detail)) {
    const n = Array.isArray(v) ? v.length : typeof v === "number" ? v : undefined;
    if (n) parts.push(`${k} ${n}`);
  }
  return parts.join(", ");
}

/** `beat`: each job's schedule, its last run (when, how it ended, what it did) and its next time. */
export async function beatAnswer(deps: EngineApiDeps, now = new Date()): Promise<Reply> {
  const lines: string[] = [];
  for (const { job, schedule } of scheduledJobs(deps.playbook.beat)) {
    const last = await lastFinishedBeatRun(deps.db, job);
    const running = await beatJobRunning(deps.db, job);
    const next = nextRunOf(schedule);
    const did = last ? describeRun(last.detail) : "";
    const lastText = `${last ? `last ${utcTimeFrom(last.scheduledFor, now)} ${last.outcome}${did ? ` (${did})` : ""}` : "never ran"}${running ? ", running now" : ""}`;
    lines.push(`${job}  \`${schedule}\`  ${lastText}  next ${next ? utcTimeFrom(next, now) : "—"}`);
  }
  if (!deps.playbook.beat.digest) lines.push("digest  off (no `beat: digest:` in the playbook)");
  const holder = await deps.redis.get(leaseKey(deps.prefix));
  lines.push(holder ? `leader: beat ${holder}` : "no beat process is running (start `raptor beat` or `raptor all`)");
  return { kind: "answer", title: "beat", text: lines.join("\n") };
}
