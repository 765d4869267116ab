import type { EngineEvent } from "../../engine/event-types.ts";
import { utcTime } from "../../lib/time-text.ts";
import { cutsRelease, formatDuration, idleText, threadVerb, omittedNote, plural, releaseChange, truncateTail } from "./format.ts";
import type { ThreadState, ThreadStep } from "./thread.ts";
import { terminalText, toPlain } from "./markup.ts";
import { commitCount, commitLines, configLines, rangeLabel, revertText } from "./changes-text.ts";

/**
 * The same thread a Slack user sees, as terminal lines: one call per event, returning the lines
 * that event adds (the head is printed once, steps as they finish, logs indented, the summary last).
 * Raptor's own texts (notes, progress, a failure's message) lose their Slack markup (terminalText);
 * logs and outputs are printed as they are.
 */

/**
 * The wait for approval as the terminal says it: who must approve and until when (utcTime), and the
 * command one of them runs — the asker may not approve their own request, so it is not "type
 * approve". `approvers` are user names and `@groups`; the example names the first user that is
 * not the asker, else `<approver>`. `expiresAt` is an ISO string. Pure.
 */
export function approvalWaitLines(approvers: readonly string[], expiresAt: string, deploymentId: string, requestedBy: string): string[] {
  const who = approvers.length > 0 ? approvers.join(", ") : "an approver";
  const when = Number.isNaN(Date.parse(expiresAt)) ? expiresAt : utcTime(new Date(expiresAt));
  const one = approvers.find((a) => !a.startsWith("@") && a !== requestedBy) ?? "<approver>";
  return [
    `  ⏸ needs approval from ${who} before ${when} (not from ${requestedBy || "the asker"}: no one approves their own request)`,
    `    one of them runs: RAPTOR_USER=${one} bin/raptor say "approve ${deploymentId}"  (or "reject ${deploymentId} <reason>")`,
  ];
}

/** Logs and outputs longer than this are cut to their tail in the terminal too. */
export const TERMINAL_LOG_CHARS = 20_000;

export const terminalIcons: Record<ThreadStep["status"], string> = {
  pending: "○",
  running: "…",
  succeeded: "✓",
  failed: "✗",
  skipped: "–",
};

function indent(text: string, prefix: string): string[] {
  const { text: tail, omittedLines } = truncateTail(text.replace(/\r\n/g, "\n").replace(/\s+$/, ""), TERMINAL_LOG_CHARS);
  const lines = tail.length > 0 ? tail.split("\n") : ["(no output)"];
  return [...(omittedLines > 0 ? [`${prefix}${omittedNote(omittedLines)}`] : []), ...lines.map((l) => `${prefix}${l}`)];
}

function stepLine(step: ThreadStep): string {
  const parts = [`  ${terminalIcons[step.status]} ${step.name}`];
  if (step.durationMs !== undefined) parts.push(formatDuration(step.durationMs));
  if (step.note) parts.push(terminalText(step.status === "succeeded" ? `(${step.note})` : step.note));
  return parts.join("  ");
}

function target(s: ThreadState): string {
  return s.app ? `${s.app} ${s.env}` : s.deploymentId;
}

/** " is now v42 (3f2a1c9), replacing v41" / " done, v41 serving" / " done". */
function outcomeRelease(s: ThreadState): string {
  const c = releaseChange(s);
  switch (c.kind) {
    case "new":
      return ` is now v${c.to}${s.commit ? ` (${s.commit})` : ""}${c.from !== undefined ? `, replacing v${c.from}` : ""}`;
    case "same":
      return ` done, v${c.release} serving`;
    case "pending":
    case "none":
      return " done";
  }
}

/** A beat report as one terminal line: `⚙ beat expire: hello local is unlocked: …`. */
export function beatReportLine(event: Pick<Extract<EngineEvent, { type: "beat.report" }>, "job" | "text">): string {
  return `⚙ beat ${event.job}: ${terminalText(event.text)}`;
}

export function renderTerminal(prev: ThreadState | undefined, next: ThreadState, event: EngineEvent): string[] {
  const step = (name: string) => next.steps.find((x) => x.name === name);
  switch (event.type) {
    case "deployment.queued": {
      const lines = [`▶ ${threadVerb(next)} ${target(next)} — ${next.requestedBy || "someone"} asked: ${next.summary}  [${next.deploymentId}]`];
      // Whether a new release is cut is known only at the release step (a deploy of what already
      // serves cuts none): the head says what serves now, the outcome what serves after.
      if (next.fromRelease !== undefined && cutsRelease(next.kind)) lines.push(`  now serving: v${next.fromRelease}`);
      if (next.behind.length > 0) lines.push(`  queued behind ${plural(next.behind.length, "deployment")}: ${next.behind.join(", ")}`);
      if (next.steps.length > 0) lines.push(`  steps: ${next.steps.map((x) => x.name).join(" → ")}`);
      return lines;
    }
    case "deployment.awaiting_approval": {
      return approvalWaitLines(event.approvers, event.expiresAt, next.deploymentId, next.requestedBy);
    }
    case "deployment.approved":
      return [`  ✓ approved by ${event.by}`];
    case "deployment.rejected":
      return [`✗ ${threadVerb(next)} ${target(next)} rejected by ${event.by}${event.reason ? `: ${event.reason}` : ""}`];
    case "deployment.started":
      return prev?.status === "running" ? [] : [`  started`];
    case "deployment.changes": {
      const lines = [event.fromRelease === undefined ? `  changes: first release, v${event.toRelease}:` : `  changes v${event.fromRelease} → v${event.toRelease}:`];
      if (event.commits) lines.push(`    commits ${rangeLabel(event.commits)}: ${commitCount(event.commits)}`, ...commitLines(event.commits, "      "));
      else if (event.commitsError) lines.push(`    commits: unknown (${event.commitsError})`);
      lines.push("    config:", ...configLines(event.config, "      "));
      return lines;
    }
    case "step.started":
      return [`  … ${event.step}`];
    case "step.progress":
      return [`    ${event.step}: ${terminalText(event.message)}`];
    case "step.log":
      return [`    ── ${event.title} ──`, ...indent(event.text, "    ")];
    case "step.finished":
    case "step.skipped": {
      const x = step(event.step);
      return x ? [stepLine(x)] : [];
    }
    case "step.failed": {
      const x = step(event.step);
      return [...(x ? [stepLine(x)] : []), ...(event.output ? indent(event.output, "    ") : [])];
    }
    case "deployment.succeeded": {
      if (event.unchanged) {
        const lines = [`✓ ${threadVerb(next)} ${target(next)}: nothing changed, v${next.toRelease}${next.commit ? ` (${next.commit})` : ""} already serves this build and config — took ${formatDuration(event.durationMs)}`];
        for (const h of event.hosts) lines.push(`  ${h.host}: ${h.procs.length > 0 ? h.procs.join(" ") : "no procs"}`);
        if (event.url) lines.push(`  reachable at ${event.url}`);
        return lines;
      }
      // Nothing listens any more: neither "v18 serving" nor "reachable at" would be true.
      if (event.idle) {
        const lines = [`✓ ${threadVerb(next)} ${target(next)} done — took ${formatDuration(event.durationMs)}`];
        for (const h of event.hosts) lines.push(`  ${h.host}: ${h.procs.length > 0 ? h.procs.join(" ") : "no procs"}`);
        lines.push(`  ${idleText(next.app, next.env, event.idle, event.url, event.hosts.some((h) => h.procs.length > 0))}`);
        return lines;
      }
      const lines = [`✓ ${threadVerb(next)} ${target(next)}${outcomeRelease(next)} — took ${formatDuration(event.durationMs)}`];
      for (const h of event.hosts) lines.push(`  ${h.host}: ${h.procs.length > 0 ? h.procs.join(" ") : "no procs"}`);
      if (event.url) lines.push(`  reachable at ${event.url}`);
      if (next.rollbackTarget !== undefined && next.kind !== "scale" && next.kind !== "restart") {
        lines.push(`  to undo: rollback ${next.app} ${next.env} v${next.rollbackTarget}${next.revert ? ` — reverts to ${revertText(next.revert, new Date(event.at))}` : ""}`);
      }
      return lines;
    }
    case "deployment.failed": {
      // One line for the outcome (a multi-line message continues below it, so "took" is never
      // glued to a log's last line); output already printed with the step failure is not repeated.
      const [first = "", ...more] = event.message.split("\n");
      const lines = [`✗ ${threadVerb(next)} ${target(next)} failed${event.step ? ` at ${event.step}` : ""} after ${formatDuration(event.durationMs)} (${event.code}): ${terminalText(first)}`];
      if (more.length > 0) lines.push(...indent(toPlain(more.join("\n")), "    "));
      const earlier = prev?.errors.find((e) => e.step === event.step && e.output !== undefined && event.output?.startsWith(e.output));
      const rest = earlier ? event.output!.slice(earlier.output!.length).replace(/^\n+/, "") : event.output;
      if (rest) lines.push(...indent(rest, "    "));
      return lines;
    }
    case "deployment.cancelled":
      return [`✗ ${threadVerb(next)} ${target(next)} cancelled by ${event.by} — ${next.startedAt ? "after" : "after waiting"} ${formatDuration(event.durationMs)}`];
    case "beat.report":
      return [beatReportLine(event)];
    default: {
      const never: never = event;
      void never;
      return [];
    }
  }
}
