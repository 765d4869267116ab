import type { Reply } from "../dispatch-types.ts";
import { clip, formatDuration, kindVerb, omittedNote, plural, truncateTail } from "./format.ts";
import type { ThreadError, ThreadState, ThreadStep } from "./thread.ts";

/**
 * Pure Block Kit renderers for a deployment thread and for query answers. Everything stays within
 * Slack's limits: at most 50 blocks, 3000 characters of section text, 75 of button text, 2000 of
 * button value. Text from outside (summaries, messages, logs) is escaped so it cannot mention
 * @channel or forge links.
 */

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  buttonText: 75,
  buttonValue: 2000,
  contextElements: 10,
  /** chat.postMessage `text` (the notification fallback); Slack truncates beyond 40k, we stay far below. */
  fallbackText: 3000,
} as const;

/** Button action ids; the Slack listeners route on these. */
export const ACTION_IDS = { approve: "raptor_approve", reject: "raptor_reject", rollback: "raptor_rollback" } as const;

export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
}
export interface PlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}
export interface ButtonElement {
  type: "button";
  action_id: string;
  text: PlainText;
  value: string;
  style?: "primary" | "danger";
  confirm?: { title: PlainText; text: PlainText; confirm: PlainText; deny: PlainText; style?: "primary" | "danger" };
}
export interface SectionBlock {
  type: "section";
  block_id?: string;
  text: Mrkdwn;
}
export interface ContextBlock {
  type: "context";
  block_id?: string;
  elements: Mrkdwn[];
}
export interface ActionsBlock {
  type: "actions";
  block_id?: string;
  elements: ButtonElement[];
}
export interface DividerBlock {
  type: "divider";
}
/** The subset of Block Kit Raptor renders (structurally a subset of @slack/types KnownBlock). */
export type Block = SectionBlock | ContextBlock | ActionsBlock | DividerBlock;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A user id becomes a mention; anything else (an email, a name, "terminal") is shown as text. */
export function who(actor: string): string {
  if (/^[UW][A-Z0-9]{2,}$/.test(actor)) return `<@${actor}>`;
  return escapeMrkdwn(actor || "someone");
}

function section(text: string, blockId?: string): SectionBlock {
  return { type: "section", ...(blockId ? { block_id: blockId } : {}), text: { type: "mrkdwn", text: clip(text, SLACK_LIMITS.sectionText) } };
}

function context(...texts: string[]): ContextBlock {
  return { type: "context", elements: texts.slice(0, SLACK_LIMITS.contextElements).map((t) => ({ type: "mrkdwn", text: clip(t, SLACK_LIMITS.sectionText) })) };
}

function plain(text: string, max: number): PlainText {
  return { type: "plain_text", text: clip(text, max), emoji: true };
}

function button(actionId: string, text: string, value: string, style?: "primary" | "danger"): ButtonElement {
  return { type: "button", action_id: actionId, text: plain(text, SLACK_LIMITS.buttonText), value: value.slice(0, SLACK_LIMITS.buttonValue), ...(style ? { style } : {}) };
}

/** Slack renders the date in the reader's time zone; the fallback is the ISO string. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

/** Wraps text in a code block; a ``` inside the text would close it, so it is broken up. */
function codeBlock(text: string): string {
  return "```" + (text.length > 0 ? text.replace(/```/g, "`\u200b``") : " ") + "```";
}

/** Code section for output: escaped, tail kept, with a note when earlier lines were dropped. */
function outputSection(raw: string, budget: number = SLACK_LIMITS.sectionText): SectionBlock {
  const escaped = escapeMrkdwn(raw.replace(/\r\n/g, "\n").replace(/\s+$/, ""));
  const reserve = 8 + omittedNote(999_999_999).length + 4;
  const { text, omittedLines } = truncateTail(escaped.replace(/```/g, "`\u200b``"), budget - reserve);
  const note = omittedLines > 0 ? `_${omittedNote(omittedLines)}_\n` : "";
  return section(note + codeBlock(text));
}

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
  return `*${kindVerb(s.kind)}* ${target}`;
}

function releaseLine(s: ThreadState): string | undefined {
  const from = s.fromRelease !== undefined ? `v${s.fromRelease}` : undefined;
  const to = s.toRelease !== undefined ? `v${s.toRelease}` : undefined;
  const commit = s.commit ? ` · commit \`${escapeMrkdwn(s.commit)}\`` : "";
  if (!from && !to) return commit ? `Release: new${commit}` : undefined;
  if (from && to && from === to) return `Release: ${to}${commit}`;
  return `Release: ${from ?? "none"} → ${to ?? "new"}${commit}`;
}

/** A short plain line for notifications and clients without blocks. */
export function fallbackText(s: ThreadState): string {
  const target = s.app ? `${s.app} to ${s.env}` : s.deploymentId;
  return clip(`${kindVerb(s.kind)} ${target}: ${s.status.replace(/_/g, " ")}`, SLACK_LIMITS.fallbackText);
}

/** The thread's head message: who asked for what, the release change, the live checklist, approval. */
export function headBlocks(s: ThreadState): Block[] {
  const lines = [`${title(s)}  ·  ${statusLine(s)}`];
  if (s.requestedBy || s.summary) lines.push(`${who(s.requestedBy)} asked: \`${escapeMrkdwn(clip(s.summary || s.kind, 300))}\``);
  const rel = releaseLine(s);
  if (rel) lines.push(rel);
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
      const rel = s.toRelease !== undefined ? ` is now *v${s.toRelease}*${s.commit ? ` (\`${escapeMrkdwn(s.commit)}\`)` : ""}` : " succeeded";
      const replaced = s.fromRelease !== undefined && s.fromRelease !== s.toRelease ? `, replacing v${s.fromRelease}` : "";
      const blocks: Block[] = [section(`:white_check_mark: ${title(s)}${rel}${replaced}${took}`, "summary")];
      const hosts = hostsText(s);
      if (hosts) blocks.push(section(hosts, "procs"));
      const cmd = rollbackCommand(s);
      if (cmd) {
        const b = button(ACTION_IDS.rollback, `Roll back to v${s.rollbackTarget}`, cmd, "danger");
        b.confirm = {
          title: plain("Roll back?", 100),
          text: plain(`Roll ${s.app} ${s.env} back to v${s.rollbackTarget}? This starts a new deployment.`, 300),
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
    case "cancelled":
      return [section(`:no_entry_sign: ${title(s)} cancelled${s.cancelledBy ? ` by ${who(s.cancelledBy)}` : ""}${took}`, "summary")];
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

/** Splits text into section-sized chunks at line boundaries, keeping the head. */
function chunks(text: string, size: number, max: number): { parts: string[]; droppedLines: number } {
  const lines = text.split("\n");
  const parts: string[] = [];
  let cur = "";
  for (const [i, raw] of lines.entries()) {
    const line = clip(raw, size);
    if (cur.length > 0 && cur.length + 1 + line.length > size) {
      if (parts.length + 1 >= max) {
        parts.push(cur);
        return { parts, droppedLines: lines.length - i };
      }
      parts.push(cur);
      cur = line;
    } else {
      cur = cur.length > 0 ? `${cur}\n${line}` : line;
    }
  }
  if (cur.length > 0 || parts.length === 0) parts.push(cur.length > 0 ? cur : " ");
  return { parts, droppedLines: 0 };
}

/** What the bot answers a command with (queries, refusals, parse errors, confirmations). */
export function answerBlocks(reply: Reply): Block[] {
  switch (reply.kind) {
    case "answer": {
      const { parts, droppedLines } = chunks(escapeMrkdwn(reply.text), SLACK_LIMITS.sectionText - 10, SLACK_LIMITS.blocks - 2);
      const blocks: Block[] = [section(`*${escapeMrkdwn(clip(reply.title, 200))}*`), ...parts.map((p) => section(p))];
      if (droppedLines > 0) blocks.push(context(`_${plural(droppedLines, "more line")} not shown_`));
      return blocks;
    }
    case "parse_error":
      return [section(`:warning: ${escapeMrkdwn(reply.text)}`)];
    case "refused":
      return [section(`:no_entry: ${escapeMrkdwn(reply.text)}`)];
    case "deployment":
      return [section(`:rocket: ${escapeMrkdwn(reply.text)}`)];
    case "done":
      return [section(`:white_check_mark: ${escapeMrkdwn(reply.text)}`)];
  }
}

/** Plain text of a reply, for notifications and the `text` field next to blocks. */
export function answerText(reply: Reply): string {
  return clip(reply.kind === "answer" ? `${reply.title}\n${reply.text}` : reply.text, SLACK_LIMITS.fallbackText);
}
