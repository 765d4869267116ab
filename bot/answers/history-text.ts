import { verbatim } from "../../lib/verbatim.ts";
import { utcTimeFrom } from "../../lib/time-text.ts";
import { cutsRelease } from "../notify/format.ts";
import { plural } from "../../lib/plural.ts";
import { cutAtWord, firstSentence, withoutExamples } from "../../lib/sentence.ts";
import type { ErrorCode } from "../../lib/error-codes.ts";

/** An actor as the answer names it: answers are plain text (answerBlocks escapes them), so no mention markup. */
const who = (actor: string | null | undefined): string => actor || "someone";

/**
 * Pure renderers for the history answers (`releases`, `deploys`, `who deployed`): plain text that
 * answerBlocks escapes for Slack. Times as lib/time-text.ts writes them; ages are relative to `now`.
 */

/** One release as `releases` lists it. */
export interface ReleaseHistoryEntry {
  number: number;
  createdAt: Date;
  createdBy: string;
  description: string;
  /** Short sha of the release's build, and of the release before it (absent for the first). */
  commit: string;
  previousCommit?: string;
  /** Config keys that differ from the release before (absent for the first release). */
  configKeys?: string[];
  /** The last deployment that shipped it: its id, status and error code. */
  outcome?: { deploymentId: string; status: string; errorCode?: ErrorCode | null };
  served: boolean;
  current: boolean;
}


/**
 * How a release ended, from whether any deployment served it: a release cut by a deployment that
 * failed and later shipped again by one that succeeded served (new-user trial: v17 said "never
 * served" while it was serving). `outcome` is the deployment releasesAnswer credits (creditedDeployment).
 */
function ended(e: ReleaseHistoryEntry): string {
  const o = e.outcome;
  if (e.current) return `serving${o ? ` (${o.deploymentId})` : ""}`;
  if (!o) return e.served ? "served" : "never shipped";
  if (e.served) return `served, replaced later (${o.deploymentId})`;
  switch (o.status) {
    case "succeeded":
      return `served, replaced later (${o.deploymentId})`;
    case "failed":
      return `failed${o.errorCode ? ` (${o.errorCode})` : ""}, never served (${o.deploymentId})`;
    case "cancelled":
      return `cancelled (${o.deploymentId})`;
    default:
      return `${o.status.replace(/_/g, " ")} (${o.deploymentId})`;
  }
}

/**
 * Of the deployments that ran one release (newest first, as listed), the one that cut it: the
 * oldest of a kind that cuts releases (deploy, config, rollback), else the oldest. `releases`
 * names it; a later scale, restart or repair of the same release is not how it came to be. Pure.
 */
export function cuttingDeployment<T extends { kind: string }>(newestFirst: readonly T[]): T | undefined {
  const oldestFirst = [...newestFirst].reverse();
  return oldestFirst.find((d) => cutsRelease(d.kind)) ?? oldestFirst[0];
}

/**
 * Of the deployments that ran one release (newest first), the one `releases` credits it to: the
 * first that served it (succeeded), preferring a kind that cuts releases, so a release first cut
 * by a deployment that failed and shipped again by one that succeeded names the one that put it
 * in service; if none served it, the one that cut it (cuttingDeployment). Pure.
 */
export function creditedDeployment<T extends { kind: string; status: string }>(newestFirst: readonly T[]): T | undefined {
  const oldestFirst = [...newestFirst].reverse();
  const served = oldestFirst.filter((d) => d.status === "succeeded");
  return served.find((d) => cutsRelease(d.kind)) ?? served[0] ?? cuttingDeployment(newestFirst);
}

/**
 * What release `newestFirst[i]` changed things from: the next older release that served (a release
 * that failed never ran, so a range from it would hide or invent commits — v6 after a failed v5
 * shows v4..v6, as its thread's "changes v4 → v6" does). `served` holds the ids of releases that
 * served. Undefined when no older listed release served. Pure.
 */
export function rangeBase<T extends { release: { id: string } }>(newestFirst: readonly T[], i: number, served: ReadonlySet<string>): T | undefined {
  return newestFirst.slice(i + 1).find((r) => served.has(r.release.id));
}

/** `releases`: one line per release, newest first: who, when, what, how it ended. */
export function releaseHistoryText(entries: readonly ReleaseHistoryEntry[], now: Date): string {
  return entries
    .map((e) => {
      const range = e.previousCommit && e.previousCommit !== e.commit ? `${e.previousCommit}..${e.commit}` : e.commit;
      const keys = e.configKeys === undefined ? "" : e.configKeys.length ? `; config ${e.configKeys.join(", ")}` : "";
      return `${e.current ? "▶" : " "} v${e.number}  ${utcTimeFrom(e.createdAt, now)} by ${who(e.createdBy)}: ${e.description}; commits ${range}${keys} — ${ended(e)}`;
    })
    .join("\n");
}

/** One request from the audit log, as `deploys` lists it. */
export interface DeployRequestEntry {
  at: Date;
  actor: string;
  /** What was asked (the command's text, redacted when recorded), or the action name. */
  asked: string;
  /** `requested` or `refused`. */
  outcome: string;
  /** Why it was refused (recorded reason or error code). */
  refusal?: string;
  /** `unchanged`: it succeeded with the release that already served (a deploy of what serves). */
  deployment?: { id: string; status: string; errorCode?: ErrorCode | null; release?: number; unchanged?: boolean };
  /** Its approval, when it needed one: `status` is the approval's (pending, approved, rejected, expired). */
  approval?: { status: string; by?: string | null; reason?: string | null };
  /** Who asked to cancel it, when someone did. */
  cancelledBy?: string;
}

/**
 * How a requested deployment ended, as `deploys` says it: an approval is named only when one was
 * given (`approved by lead`), a rejection with who and why (`rejected by lead: not during the
 * sale`), a cancel with who and when (`cancelled by root while waiting for approval`). A cancel
 * also records the approval as rejected (engine/api.ts), so the deployment's status decides which
 * of the two happened, never the approval row alone. Pure.
 */
export function deploymentEndText(d: NonNullable<DeployRequestEntry["deployment"]>, approval?: DeployRequestEntry["approval"], cancelledBy?: string): string {
  const approved = approval?.status === "approved" ? `, approved by ${who(approval.by)}` : "";
  switch (d.status) {
    case "rejected":
      if (approval?.status === "expired") return "rejected: nobody approved it in time";
      return `rejected${approval?.by ? ` by ${approval.by}` : ""}${approval?.reason ? `: ${verbatim(approval.reason)}` : ""}`;
    case "cancelled": {
      const by = cancelledBy ? ` by ${cancelledBy}` : "";
      // Cancelled before anyone approved it: it was waiting for the approval.
      if (approval && approval.status !== "approved") return `cancelled${by} while waiting for approval`;
      return `cancelled${by}${approved}`;
    }
    default:
      if (d.unchanged && d.status === "succeeded") return `nothing changed${d.release !== undefined ? ` (v${d.release} already served)` : ""}${approved}`;
      return `${d.status.replace(/_/g, " ")}${d.release !== undefined && d.status === "succeeded" ? `, v${d.release}` : ""}${d.errorCode ? ` (${d.errorCode})` : ""}${approved}`;
  }
}

/**
 * A refusal as `deploys` lists it: the first sentence of what the channel was told, without its
 * examples and without the app and environment it repeats (`hello local is locked by ann (moving
 * racks) until …` → `locked by ann (moving racks) until …`; `write KEY=VALUE, e.g. \`X=1\`` →
 * `write KEY=VALUE`). Pure; at most 200 characters, cut between words (lib/sentence.ts).
 */
export function refusalReason(text: string, where: { app?: string; env?: string } = {}): string {
  const first = withoutExamples(firstSentence(text)).replace(/\.$/, "");
  const prefix = where.app && where.env ? `${where.app} ${where.env} is ` : undefined;
  const short = prefix && first.startsWith(prefix) ? first.slice(prefix.length) : first;
  return cutAtWord(short, 200);
}

/** `deploys`: one line per request, newest first, with how it ended. */
export function deployRequestsText(entries: readonly DeployRequestEntry[], now: Date, sinceText: string, app: string, env: string): string {
  if (entries.length === 0) return `no deployments of ${app} ${env} were asked for in the last ${sinceText}.`;
  const lines = entries.map((e) => {
    const d = e.deployment;
    const how =
      e.outcome === "refused"
        ? `refused${e.refusal ? `: ${e.refusal}` : ""}`
        : d
          ? `${deploymentEndText(d, e.approval, e.cancelledBy)} (${d.id})`
          : "requested";
    return `${utcTimeFrom(e.at, now)} ${who(e.actor)}: \`${verbatim(e.asked)}\` — ${how}`;
  });
  return [`${plural(entries.length, "request")} in the last ${sinceText}, newest first:`, ...lines].join("\n");
}

/** The deployment that left a release serving, as `who deployed` tells it. */
export interface ServingDeployEntry {
  deploymentId: string;
  kind: string;
  requestedBy: string;
  asked?: string;
  approvedBy?: string | null;
  finishedAt: Date;
  release: number;
  commit?: string;
}

/** `who deployed`: who put the serving release in place, then the ones before. */
export function whoDeployedText(app: string, env: string, serving: ServingDeployEntry | undefined, before: readonly ServingDeployEntry[], now: Date): string {
  if (!serving) return `${app} ${env} has never been deployed.`;
  const one = (e: ServingDeployEntry) =>
    `${who(e.requestedBy)} (${e.asked ? `\`${verbatim(e.asked)}\`` : e.kind}) — v${e.release}${e.commit ? ` (${e.commit})` : ""}, ${utcTimeFrom(e.finishedAt, now)}${e.approvedBy ? `, approved by ${who(e.approvedBy)}` : ""} (${e.deploymentId})`;
  const lines = [`${app} ${env} serves v${serving.release}, put in place by ${one(serving)}`];
  if (before.length) lines.push("before that:", ...before.map((b) => `  ${one(b)}`));
  return lines.join("\n");
}
