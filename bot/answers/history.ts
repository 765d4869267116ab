import { deploymentRequestsSince, requestOf } from "../../db/queries/audit-log.ts";
import { deploymentsOfReleases, servingDeployments } from "../../db/queries/deployments.ts";
import { approvalOf } from "../../db/queries/approvals.ts";
import { commitOfRelease, currentRelease, releaseById, releasesWithCommits, servedReleases } from "../../db/queries/releases.ts";
import { changedKeys, diffConfig } from "../../engine/changes/types.ts";
import { redactorFor } from "../../engine/redact.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import { formatDuration } from "../../playbooks/duration.ts";
import { environmentOf, knownNames } from "../../playbooks/resolve.ts";
import { maskStoredReason, maskTyped } from "../typed-text.ts";
import type { Reply } from "../dispatch-types.ts";
import { notFound } from "./catalog.ts";
import { cutsRelease } from "../notify/format.ts";
import { creditedDeployment, deployRequestsText, rangeBase, releaseHistoryText, whoDeployedText, type ReleaseHistoryEntry, type ServingDeployEntry } from "./history-text.ts";

/** How many releases `releases` lists. */
const RELEASES_SHOWN = 20;
/** How many requests `deploys` lists. */
const REQUESTS_SHOWN = 50;

/** `releases <app> <env>`: who cut each release, when, what it changed, and how it ended. */
export async function releasesAnswer(deps: EngineApiDeps, app: string, env: string): Promise<Reply> {
  if (!environmentOf(deps.playbook, app, env)) return notFound(app, env);
  // One more than shown: the oldest shown release's diff needs the one before it (or, past a failed
  // one, the last that served: further back than that it shows no range).
  const rows = await releasesWithCommits(deps.db, app, env, RELEASES_SHOWN + 1);
  if (rows.length === 0) return { kind: "answer", title: `releases of ${app} ${env}`, text: `${app} ${env} has no releases yet.` };
  const cur = await currentRelease(deps.db, app, env);
  const served = new Set((await servedReleases(deps.db, app, env)).map((r) => r.id));
  const shipped = await deploymentsOfReleases(deps.db, rows.map((r) => r.release.id));
  const entries: ReleaseHistoryEntry[] = rows.slice(0, RELEASES_SHOWN).map(({ release: r, commit }, i) => {
    // The range and config keys are from the last release that served before it, not a failed one.
    const prev = rangeBase(rows, i, served);
    // The deployment that served it (else the one that cut it), not the last one that ran it (a
    // scale, restart or repair), nor a failed one that cut it before another shipped it.
    const last = creditedDeployment(shipped.filter((d) => d.toReleaseId === r.id));
    return {
      number: r.number,
      createdAt: r.createdAt,
      createdBy: r.createdBy,
      description: r.description,
      commit: commit.slice(0, 7),
      ...(prev ? { previousCommit: prev.commit.slice(0, 7), configKeys: changedKeys(diffConfig(prev.release.config, r.config, () => "")) } : {}),
      ...(last ? { outcome: { deploymentId: last.id, status: last.status, errorCode: last.errorCode } } : {}),
      served: served.has(r.id),
      current: r.id === cur?.id,
    };
  });
  return { kind: "answer", title: `releases of ${app} ${env}`, text: releaseHistoryText(entries, deps.now?.() ?? new Date()) };
}

/** `deploys <app> <env> since <duration>`: the deployment requests in the audit log, and how each ended. */
export async function deploysAnswer(deps: EngineApiDeps, app: string, env: string, sinceMs: number): Promise<Reply> {
  if (!environmentOf(deps.playbook, app, env)) return notFound(app, env);
  const now = deps.now?.() ?? new Date();
  const rows = await deploymentRequestsSince(deps.db, app, env, new Date(now.getTime() - sinceMs), REQUESTS_SHOWN);
  const releaseNumbers = new Map<string, number>();
  for (const r of rows) {
    const id = r.deployment?.toReleaseId;
    if (id && !releaseNumbers.has(id)) {
      const rel = await releaseById(deps.db, id);
      if (rel) releaseNumbers.set(id, rel.number);
    }
  }
  const names = knownNames(deps.playbook);
  // Only the free text (what was asked, a refusal's or approval's reason) goes through the
  // redactor: outcomes and statuses are Raptor's words, actors and ids checked names (red team 2 N4).
  const redact = await redactorFor(deps, app, env);
  const entries = rows.map((r) => {
    const detail = r.audit.detail as { summary?: unknown; reason?: unknown; code?: unknown };
    const release = r.deployment?.toReleaseId ? releaseNumbers.get(r.deployment.toReleaseId) : undefined;
    return {
      at: r.audit.at,
      actor: r.audit.actor,
      // Masked again as shown (bot/typed-text.ts): rows written before the mask may hold a value.
      asked: typeof detail.summary === "string" ? redact(maskTyped(detail.summary, names, r.audit.outcome !== "refused" && storedConfigSet(detail.summary))) : r.audit.action.replace("-", " "),
      outcome: r.audit.outcome,
      ...(r.audit.outcome === "refused"
        ? { refusal: typeof detail.reason === "string" ? redact(maskStoredReason(detail.reason, typeof detail.summary === "string" ? detail.summary : "", names)) : typeof detail.code === "string" ? detail.code : undefined }
        : {}),
      ...(r.deployment ? { deployment: { id: r.deployment.id, status: r.deployment.status, errorCode: r.deployment.errorCode, ...(release !== undefined ? { release } : {}), ...(unchanged(r.deployment) ? { unchanged: true } : {}) } } : {}),
      ...(r.approval ? { approval: { ...r.approval, reason: r.approval.reason ? redact(r.approval.reason) : r.approval.reason } } : {}),
      ...(r.cancelledBy ? { cancelledBy: r.cancelledBy } : {}),
    };
  });
  return { kind: "answer", title: `deploys of ${app} ${env}`, text: deployRequestsText(entries, now, formatDuration(sinceMs), app, env), redacted: true };
}

/**
 * Whether a stored request's summary is a `config set` (not `config secret`), whose plain values
 * `maskTyped` shows as `config` does (bot/command-log.ts plainConfig, for the stored text).
 */
function storedConfigSet(summary: string): boolean {
  return /^(plan\s+)?config\s+set\s/i.test(summary.trim());
}

/** A deploy or config change that succeeded with the release that already served: it changed nothing. */
function unchanged(d: { kind: string; status: string; fromReleaseId: string | null; toReleaseId: string | null }): boolean {
  return d.status === "succeeded" && cutsRelease(d.kind) && d.toReleaseId !== null && d.fromReleaseId === d.toReleaseId;
}

/** `who deployed <app> <env>`: who put the serving release in place, and the few before. */
export async function whoDeployedAnswer(deps: EngineApiDeps, app: string, env: string): Promise<Reply> {
  if (!environmentOf(deps.playbook, app, env)) return notFound(app, env);
  const list = await servingDeployments(deps.db, app, env, 4);
  const entries: ServingDeployEntry[] = [];
  for (const d of list) {
    const rel = d.toReleaseId ? await releaseById(deps.db, d.toReleaseId) : undefined;
    // A rollback or config change resolves no ref: the commit is its release's build's.
    const commit = (rel ? await commitOfRelease(deps.db, rel) : undefined) ?? d.commit;
    const asked = (await requestOf(deps.db, d.id))?.detail as { summary?: unknown } | undefined;
    const approval = await approvalOf(deps.db, d.id);
    entries.push({
      deploymentId: d.id,
      kind: d.kind,
      requestedBy: d.requestedBy,
      ...(typeof asked?.summary === "string" ? { asked: maskTyped(asked.summary, knownNames(deps.playbook), storedConfigSet(asked.summary)) } : {}),
      approvedBy: approval?.status === "approved" ? approval.decidedBy : undefined,
      finishedAt: d.finishedAt ?? d.createdAt,
      release: rel?.number ?? 0,
      ...(commit ? { commit: commit.slice(0, 7) } : {}),
    });
  }
  return { kind: "answer", title: `who deployed ${app} ${env}`, text: whoDeployedText(app, env, entries[0], entries.slice(1), deps.now?.() ?? new Date()) };
}
