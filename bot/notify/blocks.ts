import type { Reply } from "../dispatch-types.ts";
import { clip, formatDuration, idleText, threadVerb, plural, releaseChange } from "./format.ts";
import type { ThreadError, ThreadState, ThreadStep } from "./thread.ts";
import { button, context, escapeMrkdwn, outputSection, plain, section, slackDate, SLACK_LIMITS, who, type Block } from "./block-kit.ts";
import { fitAnswer, type FittedMessage } from "./message-fit.ts";
import { commitCount, commitLines, configKeysLine, configLines, rangeLabel, revertText } from "./changes-text.ts";

export {
  escapeMrkdwn,
  SLACK_LIMITS,
  who,
  type ActionsBlock,
  type Block,
  type ButtonElement,
  type ContextBlock,
  type DividerBlock,
  type Mrkdwn,
  type PlainText,
  type SectionBlock,
} from "./block-kit.ts";

/**
 * Pure Block Kit renderers for a deployment thread (head, summary, logs, failures) and for query
 * answers, built from the primitives in block-kit.ts, so they stay within Slack's limits: at most
 * 50 blocks, 3000 characters of section text, 75 of button text, 2000 of button value. Text from
 * outside (summaries, messages, logs) is escaped so it cannot mention @channel or forge links.
 */

/** Button action ids; the Slack listeners route on these. */
export const ACTION_IDS = { approve: "raptor_approve", reject: "raptor_reject", rollback: "raptor_rollback", confirm: "raptor_confirm" } as const;

export const stepIcons: Record<ThreadStep["status"], string> = {
  pending: ":white_circle:",
  running: ":hourglass_flowing_sand:",
  succeeded: ":white_check_mark:",
  failed: ":x:",
  skipped: ":fast_forward:",
};

function stepLine(step: ThreadStep): string {
  const name = step.name.replace(/_/g, " ");
  const parts = [`${stepIcons[step.status]} ${step.status === "running" ? `*${name}*` : name}`];
  if (step.durationMs !== undefined) parts.push(formatDuration(step.durationMs));
  const note = step.status === "running" ? step.progress : step.note;
  if (note) parts.push(`_${escapeMrkdwn(clip(note.split("\n")[0] ?? "", 200))}_`);
  if (step.status === "skipped" && !step.note) parts.push("_skipped_");
  return parts.join("  ");
}

function statusLine(s: ThreadState): string {
  switch (s.status) {
    case "queued":
      if (s.approval?.decision === "approved") return ":inbox_tray: approved, waiting to start";
      return s.behind.length > 0 ? `:inbox_tray: queued behind ${plural(s.behind.length, "deployment")}` : ":inbox_tray: queued";
    case "awaiting_approval":
      return ":raised_hand: awaiting approval";
    case "running":
      return ":hourglass_flowing_sand: running";
    case "succeeded":
      return `:white_check_mark: succeeded${s.durationMs !== undefined ? ` in ${formatDuration(s.durationMs)}` : ""}`;
    case "failed":
      return `:x: failed${s.failure?.step ? ` at ${s.failure.step.replace(/_/g, " ")}` : ""}`;
    case "cancelled":
      return `:no_entry_sign: cancelled${s.cancelledBy ? ` by ${who(s.cancelledBy)}` : ""}`;
    case "rejected":
      return `:no_entry: rejected${s.approval?.by ? ` by ${who(s.approval.by)}` : ""}`;
  }
}

function title(s: ThreadState): string {
  const target = s.app ? `\`${escapeMrkdwn(s.app)}\` to \`${escapeMrkdwn(s.env)}\`` : `deployment \`${escapeMrkdwn(s.deploymentId)}\``;
  return `*${threadVerb(s)}* ${target}`;
}

function releaseLine(s: ThreadState): string | undefined {
  const commit = s.commit ? ` · commit \`${escapeMrkdwn(s.commit)}\`` : "";
  const c = releaseChange(s);
  switch (c.kind) {
    case "new":
      return `Release: ${c.from !== undefined ? `v${c.from} → ` : ""}v${c.to}${commit}`;
    case "same":
      return `Release: v${c.release}${commit}`;
    case "pending":
      // Not "→ new": a deploy of what already serves cuts no release; the release step says.
      return c.serving !== undefined ? `Release: v${c.serving} serving${commit}` : commit ? `Release: new${commit}` : undefined;
    case "none":
      return commit ? `Release:${commit.slice(2)}` : undefined;
  }
}

/** A short plain line for notifications and clients without blocks. */
export function fallbackText(s: ThreadState): string {
  const target = s.app ? `${s.app} to ${s.env}` : s.deploymentId;
  return clip(escapeMrkdwn(`${threadVerb(s)} ${target}: ${s.status.replace(/_/g, " ")}`), SLACK_LIMITS.fallbackText);
}

/** The thread's head message: who asked for what, the release change, the live checklist, approval. */
export function headBlocks(s: ThreadState): Block[] {
  const lines = [`${title(s)}  ·  ${statusLine(s)}`];
  if (s.requestedBy || s.summary) lines.push(`${who(s.requestedBy)} asked: \`${escapeMrkdwn(clip(s.summary || s.kind, 300))}\``);
  const rel = releaseLine(s);
  if (rel) lines.push(rel);
  const ch = s.changes;
  if (ch) {
    // Keys only up here; the summary lists the commits and the values (masked).
    if (ch.commits) lines.push(`Commits \`${escapeMrkdwn(rangeLabel(ch.commits))}\`: ${commitCount(ch.commits)}`);
    else if (ch.commitsError) lines.push(`Commits: unknown (${escapeMrkdwn(clip(ch.commitsError, 200))})`);
    lines.push(`Config: ${escapeMrkdwn(clip(configKeysLine(ch.config), 500))}`);
  }
  const blocks: Block[] = [section(lines.join("\n"), "head")];
  if (s.steps.length > 0) blocks.push(section(s.steps.map(stepLine).join("\n"), "steps"));

  const a = s.approval;
  if (a && s.status === "awaiting_approval" && !a.decision) {
    const approvers = a.approvers.length > 0 ? a.approvers.map(who).join(", ") : "an approver";
    blocks.push(section(`:raised_hand: Needs approval from ${approvers} before ${slackDate(a.expiresAt)}`, "approval"));
    blocks.push({
      type: "actions",
      block_id: "approval_actions",
      elements: [
        button(ACTION_IDS.approve, "Approve", `approve ${s.deploymentId}`, "primary"),
        button(ACTION_IDS.reject, "Reject", `reject ${s.deploymentId}`, "danger"),
      ],
    });
  } else if (a?.decision === "approved") {
    blocks.push(context(`:heavy_check_mark: Approved by ${who(a.by ?? "")}`));
  } else if (a?.decision === "rejected") {
    blocks.push(context(`:no_entry: Rejected by ${who(a.by ?? "")}${a.reason ? `: ${escapeMrkdwn(clip(a.reason, 500))}` : ""}`));
  }

  const foot = [`Deployment \`${escapeMrkdwn(s.deploymentId)}\``];
  if (s.status === "queued" && s.behind.length > 0) foot.push(`behind ${s.behind.map((b) => `\`${escapeMrkdwn(b)}\``).join(", ")}`);
  blocks.push(context(clip(foot.join(" · "), 2000)));
  return blocks;
}

/** The `rollback` command a summary's button carries, or undefined when there is nothing to go back to. */
export function rollbackCommand(s: ThreadState): string | undefined {
  if (s.status !== "succeeded" || s.rollbackTarget === undefined || !s.app) return undefined;
  if (s.kind === "scale" || s.kind === "restart") return undefined;
  if (s.toRelease !== undefined && s.toRelease === s.rollbackTarget) return undefined;
  return `rollback ${s.app} ${s.env} v${s.rollbackTarget}`;
}

/**
 * The Rollback confirmation's question: what it reverts to (release, commit, age, config
 * difference), within the 300 characters Slack allows a confirmation's text (the config part is
 * cut first). Ages are as of when the deployment finished. Pure.
 */
export function rollbackConfirmText(s: ThreadState): string {
  const tail = " This starts a new deployment.";
  if (!s.revert) return `Roll ${s.app} ${s.env} back to v${s.rollbackTarget}?${tail}`;
  const what = revertText(s.revert, new Date(s.finishedAt ?? s.revert.createdAt));
  return `${clip(`Roll ${s.app} ${s.env} back to ${what}`, 300 - tail.length - 1)}?${tail}`;
}

/** The summary's changes: the commit range with its commits, and the config diff with values (masked). */
function changesText(s: ThreadState): string | undefined {
  const ch = s.changes;
  if (!ch) return undefined;
  const lines: string[] = [];
  if (ch.commits) lines.push(`*Commits* \`${escapeMrkdwn(rangeLabel(ch.commits))}\` (${commitCount(ch.commits)})`, ...commitLines(ch.commits).map(escapeMrkdwn));
  else if (ch.commitsError) lines.push(`*Commits*: unknown (${escapeMrkdwn(clip(ch.commitsError, 200))})`);
  lines.push("*Config*", ...configLines(ch.config).map(escapeMrkdwn));
  return clip(lines.join("\n"), SLACK_LIMITS.sectionText - 10);
}

/** Procs per host, one host a line, kept within one section (the rest counted). */
function hostsText(s: ThreadState): string | undefined {
  const hosts = s.result?.hosts ?? [];
  if (hosts.length === 0) return undefined;
  const budget = SLACK_LIMITS.sectionText - 100;
  const lines: string[] = [];
  let size = 0;
  for (const [i, h] of hosts.entries()) {
    const line = `*${escapeMrkdwn(h.host)}*  ${h.procs.length > 0 ? h.procs.map((p) => `\`${escapeMrkdwn(p)}\``).join(" ") : "_no procs_"}`;
    if (size + line.length + 1 > budget) {
      lines.push(`_… and ${plural(hosts.length - i, "more host")}_`);
      break;
    }
    lines.push(line);
    size += line.length + 1;
  }
  const total = hosts.reduce((n, h) => n + h.procs.length, 0);
  return `${plural(total, "proc")} on ${plural(hosts.length, "host")}:\n${lines.join("\n")}`;
}

/** The final reply in the thread: outcome, release, procs per host, duration, and a Rollback button. */
export function summaryBlocks(s: ThreadState): Block[] {
  const took = s.durationMs !== undefined ? ` — took ${formatDuration(s.durationMs)}` : "";
  switch (s.status) {
    case "succeeded": {
      if (s.result?.unchanged) {
        const blocks: Block[] = [section(`:white_check_mark: ${title(s)}: nothing changed, *v${s.toRelease}*${s.commit ? ` (\`${escapeMrkdwn(s.commit)}\`)` : ""} already serves this build and config${took}`, "summary")];
        const hosts = hostsText(s);
        if (hosts) blocks.push(section(hosts, "procs"));
        if (s.result.url) blocks.push(section(`reachable at ${escapeMrkdwn(s.result.url)}`, "url"));
        return blocks;
      }
      const idle = s.result?.idle;
      if (idle) {
        // Nothing listens any more: neither "v18 serving" nor "reachable at" would be true.
        const blocks: Block[] = [section(`:white_check_mark: ${title(s)} done${took}`, "summary")];
        const hosts = hostsText(s);
        if (hosts) blocks.push(section(hosts, "procs"));
        blocks.push(section(escapeMrkdwn(idleText(s.app, s.env, idle, s.result?.url, (s.result?.hosts ?? []).some((h) => h.procs.length > 0))), "url"));
        return blocks;
      }
      const c = releaseChange(s);
      const rel =
        c.kind === "new"
          ? ` is now *v${c.to}*${s.commit ? ` (\`${escapeMrkdwn(s.commit)}\`)` : ""}${c.from !== undefined ? `, replacing v${c.from}` : ""}`
          : c.kind === "same"
            ? ` done, *v${c.release}* serving`
            : " succeeded";
      const blocks: Block[] = [section(`:white_check_mark: ${title(s)}${rel}${took}`, "summary")];
      const changes = changesText(s);
      if (changes) blocks.push(section(changes, "changes"));
      const hosts = hostsText(s);
      if (hosts) blocks.push(section(hosts, "procs"));
      if (s.result?.url) blocks.push(section(`reachable at ${escapeMrkdwn(s.result.url)}`, "url"));
      const cmd = rollbackCommand(s);
      if (cmd) {
        const b = button(ACTION_IDS.rollback, `Roll back to v${s.rollbackTarget}`, cmd, "danger");
        b.confirm = {
          title: plain("Roll back?", 100),
          text: plain(rollbackConfirmText(s), 300),
          confirm: plain("Roll back", 30),
          deny: plain("Cancel", 30),
          style: "danger",
        };
        blocks.push({ type: "actions", block_id: "summary_actions", elements: [b] });
      }
      return blocks;
    }
    case "failed": {
      const f = s.failure;
      const where = f?.step ? ` at *${f.step.replace(/_/g, " ")}*` : "";
      const code = f?.code ? ` (\`${escapeMrkdwn(f.code)}\`)` : "";
      const lines = [`:x: ${title(s)} failed${where}${took}`];
      if (f?.message) lines.push(`> ${escapeMrkdwn(clip(f.message, 2000)).replace(/\n/g, "\n> ")}${code}`);
      return [section(lines.join("\n"), "summary")];
    }
    case "cancelled": {
      const waited = s.durationMs !== undefined ? ` — ${s.startedAt ? "after" : "after waiting"} ${formatDuration(s.durationMs)}` : "";
      return [section(`:no_entry_sign: ${title(s)} cancelled${s.cancelledBy ? ` by ${who(s.cancelledBy)}` : ""}${waited}`, "summary")];
    }
    case "rejected": {
      const a = s.approval;
      const reason = a?.reason ? `: ${escapeMrkdwn(clip(a.reason, 1000))}` : "";
      return [section(`:no_entry: ${title(s)} rejected${a?.by ? ` by ${who(a.by)}` : ""}${reason}`, "summary")];
    }
    default:
      return [];
  }
}

/** A log posted into the thread: title, then the tail of the text in a code block. */
export function logBlocks(logTitle: string, text: string): Block[] {
  return [section(`*${escapeMrkdwn(clip(logTitle, 200))}*`), outputSection(text.length > 0 ? text : "(no output)")];
}

/** A failure reply: which step, what went wrong, and the tail of the output as evidence. */
export function failureBlocks(s: ThreadState, error: ThreadError): Block[] {
  const step = error.step ? `*${error.step.replace(/_/g, " ")}* failed` : `${title(s)} failed`;
  const code = error.code ? ` (\`${escapeMrkdwn(error.code)}\`)` : "";
  const blocks: Block[] = [section(`:x: ${step}${code}: ${escapeMrkdwn(clip(error.message, 2500))}`)];
  if (error.output && error.output.trim().length > 0) blocks.push(outputSection(error.output));
  return blocks;
}

/** What the bot answers a command with (queries, refusals, parse errors, confirmations). */
export function answerBlocks(reply: Reply): Block[] {
  switch (reply.kind) {
    case "answer":
      return answerMessage(reply).blocks;
    case "parse_error":
      return [section(`:warning: ${escapeMrkdwn(reply.text)}`)];
    case "refused": {
      const blocks: Block[] = [section(`:no_entry: ${escapeMrkdwn(reply.text)}`)];
      // A refusal a person may override (`scale! ... web=0`) carries the overriding command as a button.
      if (reply.confirm) blocks.push({ type: "actions", block_id: "confirm_actions", elements: [button(ACTION_IDS.confirm, "Confirm", reply.confirm, "danger")] });
      return blocks;
    }
    case "deployment":
      return [section(`:rocket: ${escapeMrkdwn(reply.text)}`)];
    case "done":
      return [section(`:white_check_mark: ${escapeMrkdwn(reply.text)}`)];
  }
}

/**
 * Plain text of a reply, for notifications and the `text` field next to blocks. Slack reads that
 * field as markup too (`<!channel>` notifies a channel), so user text in it is escaped as in blocks.
 */
export function answerText(reply: Reply): string {
  if (reply.kind === "answer") return answerMessage(reply).text;
  return clip(escapeMrkdwn(reply.text), SLACK_LIMITS.fallbackText);
}

/**
 * An answer as one Slack message within every limit (message-fit.ts): cut at its `overflow.keep`
 * end with a note saying what was cut and how to see it; `uploaded` names the file holding the
 * whole text when one was uploaded beside it.
 */
export function answerMessage(reply: Extract<Reply, { kind: "answer" }>, uploaded?: string): FittedMessage {
  const more = uploaded ? `The whole text is in the file \`${uploaded}\` in this conversation.` : (reply.overflow?.more ?? "Narrow the question to see the rest.");
  return fitAnswer(reply.title, reply.text, { keep: reply.overflow?.keep ?? "head", more });
}
