import { utcTime } from "../lib/time-text.ts";
import { lockHeldText } from "./lock-held.ts";
import type { DeploymentKind, DeploymentParams, DeploymentRow } from "../db/schema/index.ts";
import { activeFreeze, freezeEndsAt, isFrozen } from "../playbooks/freeze.ts";
import { approversOf, environmentOf } from "../playbooks/resolve.ts";
import type { EngineApiDeps, EngineDeps } from "./context.ts";
import { EngineError } from "./errors.ts";
import { deleteEnvironmentLock, environmentLock, insertEnvironmentLock, removeEndedLocks } from "../db/queries/locks.ts";
import { approvalOf, decidePendingApproval, expirePendingApproval } from "../db/queries/approvals.ts";
import { recordAudit } from "../db/queries/audit-log.ts";
import { emit } from "./events.ts";
import { promoteNext } from "./line.ts";
import type { EngineEvent, StepName } from "./event-types.ts";
import { newDeploymentId } from "./ids.ts";
import { planSteps } from "./pipeline/plan-steps.ts";
import { preflight } from "./preflight.ts";
import { promotionProblemAtRequest } from "./changes/promotion.ts";
import { currentRelease, releaseById } from "../db/queries/releases.ts";
import { requestCancelUnlessPast } from "../db/queries/deployment-steps.ts";
import { currentStep, pastNoReturn } from "./pipeline/no-return.ts";
import { deploymentById, recordDeploymentRequest, updateDeploymentWhile } from "../db/queries/deployments.ts";
import { pendingSecrets, pendingSecretVars, redactorFor } from "./redact.ts";
import { rememberSecrets } from "../db/queries/known-secrets.ts";

export interface DeploymentRequest {
  kind: DeploymentKind;
  app: string;
  env: string;
  params: DeploymentParams;
  requestedBy: string;
  origin: string;
  /** What the person asked for, as shown in the thread ("deploy hello local main"). */
  summary: string;
}

export interface RequestedDeployment {
  id: string;
  status: "queued" | "awaiting_approval";
  behind: string[];
  queuedEvent: EngineEvent;
}

/**
 * The one entry point for work: records a deployment and its planned steps, then either enqueues
 * it or, where the environment requires approval, parks it until someone approves.
 * Refuses at once (EngineError) when the app+env is unknown, locked, or frozen (unless forced).
 */
export async function requestDeployment(deps: EngineApiDeps, req: DeploymentRequest): Promise<RequestedDeployment> {
  // A secret is masked from the moment it is asked for, whatever becomes of the request (awaiting
  // approval, refused below, failed): typed into a lock reason meanwhile, it must not be kept.
  await rememberSecrets(deps.db, req.app, req.env, pendingSecretVars(req.params));
  const found = environmentOf(deps.playbook, req.app, req.env);
  if (!found) throw new EngineError("not_found", `there is no environment ${req.env} for app ${req.app}`);
  const { environment } = found;
  await assertUnlocked(deps, req.app, req.env, req.requestedBy, "other");
  const now = deps.now?.() ?? new Date();
  if (!req.params.force && isFrozen(environment.freeze, now)) {
    const window = activeFreeze(environment.freeze, now);
    const ends = freezeEndsAt(environment.freeze, now);
    const until = ends ? ` until ${utcTime(ends)}` : "";
    throw new EngineError("frozen", `${req.app} ${req.env} is frozen${until} (freeze window "${window}"; freeze times are UTC).`);
  }
  if (req.kind !== "deploy" && req.kind !== "scale" && req.kind !== "config" && !(await currentRelease(deps.db, req.app, req.env))) {
    throw new EngineError("not_found", `${req.app} has never been deployed to ${req.env}; deploy it first.`);
  }
  if (found.app.working_copy && req.params.ref !== undefined) {
    throw new EngineError("invalid", `${req.app} deploys the files in ${found.app.repo} as they are (working_copy: true), so it has no branches or tags: \`deploy ${req.app} ${req.env}\` ships the directory now.`);
  }
  await preflight(deps.db, environment, req.kind, req.params);
  // `promote_from` before the request is queued or sent for approval; the resolve step checks again.
  const unpromoted = await promotionProblemAtRequest(deps, found.app, environment, req.kind, req.params);
  if (unpromoted) throw new EngineError("not_promoted", unpromoted);
  const id = newDeploymentId();
  // A repair puts back what was already approved and deployed.
  const needsApproval = environment.approval.required && req.kind !== "repair";
  const steps = planSteps(req.kind, { hasReleaseHook: (environment.release_hook?.length ?? 0) > 0 });
  const from = await currentRelease(deps.db, req.app, req.env);
  const status = needsApproval ? "awaiting_approval" : "queued";
  const behind = await recordDeploymentRequest(deps.db, {
    deployment: { id, kind: req.kind, app: req.app, env: req.env, status, params: req.params, requestedBy: req.requestedBy, origin: req.origin, fromReleaseId: from?.id },
    steps,
    approval: needsApproval ? { requestedBy: req.requestedBy, expiresAt: new Date(now.getTime() + environment.approval.timeout_ms) } : undefined,
  });
  // A `config set`'s secret values are masked from the moment they are asked for: the summary repeats them.
  const redact = await redactorFor(deps, req.app, req.env, pendingSecrets(req.params));
  await audit(deps, req.requestedBy, req.kind, "requested", { app: req.app, env: req.env, deploymentId: id, detail: { summary: redact(req.summary) } });
  const queuedEvent = await emit(
    deps,
    id,
    {
      type: "deployment.queued",
      kind: req.kind,
      app: req.app,
      env: req.env,
      requestedBy: req.requestedBy,
      origin: req.origin,
      summary: req.summary,
      steps,
      behind: needsApproval ? [] : behind,
      fromRelease: from?.number,
      ...(req.params.promote ? { promotedFrom: req.params.promote.env } : {}),
    },
    redact,
  );
  if (needsApproval) {
    const approvers = approversOf(environment);
    const row = await approvalOf(deps.db, id);
    await emit(deps, id, { type: "deployment.awaiting_approval", approvers, expiresAt: row!.expiresAt.toISOString() });
  } else {
    await deps.queues.enqueueDeployment(id);
  }
  return { id, status, behind: needsApproval ? [] : behind, queuedEvent };
}

async function assertUnlocked(deps: EngineDeps, app: string, env: string, asker: string, asking: "lock" | "other"): Promise<void> {
  // A lock whose time is up no longer holds, even before the beat removes it.
  const lock = await environmentLock(deps.db, app, env, deps.now?.() ?? new Date());
  if (lock) throw new EngineError("lock_held", lockHeldText(app, env, lock, asker, asking));
}

export async function audit(
  deps: Pick<EngineDeps, "db">,
  actor: string,
  action: string,
  outcome: string,
  more: { app?: string; env?: string; deploymentId?: string; detail?: Record<string, unknown> } = {},
): Promise<void> {
  await recordAudit(deps.db, { actor, action, outcome, app: more.app, env: more.env, deploymentId: more.deploymentId, detail: more.detail ?? {} });
}

/**
 * Records a decision on a pending approval. Only a pending, unexpired approval can be decided,
 * and never by the person who asked (the bot also checks the approver list with its Authorizer).
 * The conditional update makes two simultaneous clicks decide once.
 */
export async function decideApproval(
  deps: EngineApiDeps,
  deploymentId: string,
  actor: string,
  decision: "approved" | "rejected",
  typedReason?: string,
): Promise<void> {
  const d = await deploymentById(deps.db, deploymentId);
  if (!d) throw new EngineError("not_found", `there is no deployment ${deploymentId}`);
  const approval = await approvalOf(deps.db, deploymentId);
  if (!approval || d.status !== "awaiting_approval") {
    throw new EngineError("invalid", `${deploymentId} is not waiting for approval (it is ${d.status.replace("_", " ")}).`);
  }
  if (approval.requestedBy === actor) {
    // Rejecting one's own request is withdrawing it: that is `cancel`, which the requester may always do.
    if (decision === "rejected") throw new EngineError("policy_denied", `you asked for ${deploymentId}, so someone else decides on it; to withdraw it yourself, type \`cancel ${deploymentId}\`.`);
    throw new EngineError("policy_denied", `you asked for ${deploymentId}, so someone else must approve it.`);
  }
  const now = deps.now?.() ?? new Date();
  if (approval.expiresAt <= now) {
    await expireApproval(deps, deploymentId);
    throw new EngineError("invalid", `the approval for ${deploymentId} expired at ${approval.expiresAt.toISOString()}; request the deployment again.`);
  }
  // A reason is typed by a person and may hold a secret they pasted: stored and shown masked.
  const reason = typedReason === undefined ? undefined : (await redactorFor(deps, d.app, d.env))(typedReason);
  const decided = await decidePendingApproval(deps.db, deploymentId, { status: decision, decidedBy: actor, decidedAt: now, reason });
  if (!decided) throw new EngineError("invalid", `${deploymentId} was already decided.`);
  await audit(deps, actor, decision === "approved" ? "approve" : "reject", "recorded", { app: d.app, env: d.env, deploymentId, detail: reason ? { reason } : {} });
  // Conditional on the deployment still waiting: a cancel that landed in between wins.
  if (decision === "approved") {
    const moved = await updateDeploymentWhile(deps.db, deploymentId, ["awaiting_approval"], { status: "queued" });
    if (!moved) throw new EngineError("invalid", `${deploymentId} was cancelled before it could be approved.`);
    await emit(deps, deploymentId, { type: "deployment.approved", by: actor });
    await deps.queues.enqueueDeployment(deploymentId);
  } else {
    // A cancel that landed in between ended it: its verdict stands.
    if (await updateDeploymentWhile(deps.db, deploymentId, ["awaiting_approval"], { status: "rejected", finishedAt: now })) await emit(deps, deploymentId, { type: "deployment.rejected", by: actor, reason });
  }
}

/** An approval nobody decided in time ends the deployment; the beat calls this for all of them. */
export async function expireApproval(deps: EngineDeps, deploymentId: string): Promise<boolean> {
  const now = deps.now?.() ?? new Date();
  if (!(await expirePendingApproval(deps.db, deploymentId, now))) return false;
  // Once: a cancel that ended it meanwhile said its own verdict.
  if (!(await updateDeploymentWhile(deps.db, deploymentId, ["awaiting_approval"], { status: "rejected", finishedAt: now }))) return false;
  await emit(deps, deploymentId, { type: "deployment.rejected", by: "raptor", reason: "nobody approved it in time" });
  return true;
}

/**
 * Cancels a deployment: one that has not started ends at once; a running one stops at the next
 * step boundary and compensates (see pipeline/run.ts). Once it is past its point of no return
 * (routing has begun: pipeline/no-return.ts) a cancel would change nothing, so it is refused with
 * the step under way and how to undo the deployment after it ends; its thread says so too.
 */
export async function cancelDeployment(deps: EngineApiDeps, deploymentId: string, actor: string): Promise<{ kind: "cancelled" } | { kind: "stopping"; step?: string }> {
  const d = await deploymentById(deps.db, deploymentId);
  if (!d) throw new EngineError("not_found", `there is no deployment ${deploymentId}`);
  const now = deps.now?.() ?? new Date();
  const early = await updateDeploymentWhile(deps.db, deploymentId, ["queued", "awaiting_approval"], { status: "cancelled", finishedAt: now, cancelRequested: true });
  if (early) {
    await audit(deps, actor, "cancel", "requested", { app: d.app, env: d.env, deploymentId });
    await decidePendingApproval(deps.db, deploymentId, { status: "rejected", decidedBy: actor, decidedAt: now, reason: "cancelled" });
    // How long it waited in line (or for approval): the time a person reads as "after 3m".
    await emit(deps, deploymentId, { type: "deployment.cancelled", by: actor, durationMs: Math.max(0, now.getTime() - d.createdAt.getTime()) });
    await promoteNext(deps, d.app, d.env);
    return { kind: "cancelled" };
  }
  const asked = await requestCancelUnlessPast(deps.db, deploymentId, pastNoReturn, currentStep);
  if (asked.kind === "asked") {
    await audit(deps, actor, "cancel", "requested", { app: d.app, env: d.env, deploymentId });
    const step = (asked.step ?? "resolve") as StepName;
    await emit(deps, deploymentId, { type: "step.progress", step, message: `cancel requested by ${actor}; stopping at the next step` });
    return { kind: "stopping", ...(asked.step ? { step: asked.step } : {}) };
  }
  if (asked.kind === "too_late") {
    await audit(deps, actor, "cancel", "too_late", { app: d.app, env: d.env, deploymentId, detail: { step: asked.step } });
    const undo = await undoHint(deps, asked.deployment);
    await emit(deps, deploymentId, { type: "step.progress", step: asked.step as StepName, message: `cancel asked by ${actor} came too late: ${asked.step} is under way, so the deployment will finish${undo ? `; to undo it afterwards: ${undo}` : ""}` });
    throw new EngineError("invalid", `too late to cancel ${deploymentId}: ${asked.step} is under way, so it will finish.${undo ? ` To undo it afterwards: \`${undo}\`.` : ""}`);
  }
  await audit(deps, actor, "cancel", "requested", { app: d.app, env: d.env, deploymentId });
  const status = asked.deployment?.status ?? d.status;
  throw new EngineError("invalid", `${deploymentId} already ended (${status}).`);
}

/** The command that undoes a deployment that is finishing: a rollback to the release it replaces (none for a first deploy, a scale or a restart). */
async function undoHint(deps: EngineApiDeps, d: DeploymentRow): Promise<string | undefined> {
  if (d.kind !== "deploy" && d.kind !== "config" && d.kind !== "rollback") return undefined;
  const from = d.fromReleaseId ? await releaseById(deps.db, d.fromReleaseId) : undefined;
  return from ? `rollback ${d.app} ${d.env} v${from.number}` : undefined;
}

/**
 * Locks an app+env; with `forMs` the lock ends by itself then (the beat's expire job releases it).
 * Returns when it ends, if it does. Throws lock_held when someone holds it already. `origin` is
 * where it was asked for (a chat request's origin): the beat says the end of a timed lock there,
 * as well as in the environment's channels.
 */
export async function lockEnvironment(deps: EngineDeps, app: string, env: string, actor: string, typedReason?: string, forMs?: number, origin?: string): Promise<Date | undefined> {
  if (!environmentOf(deps.playbook, app, env)) throw new EngineError("not_found", `there is no environment ${env} for app ${app}`);
  // The reason is shown to everyone who meets the lock (status, refusals) and kept: a secret
  // pasted into it is masked before either.
  const reason = typedReason === undefined ? undefined : (await redactorFor(deps, app, env))(typedReason);
  const now = deps.now?.() ?? new Date();
  const expiresAt = forMs !== undefined ? new Date(now.getTime() + forMs) : undefined;
  await removeEndedLocks(deps.db, now, { app, env });
  const taken = await insertEnvironmentLock(deps.db, { app, env, heldBy: actor, reason, expiresAt, ...(origin ? { origin } : {}) });
  if (!taken) await assertUnlocked(deps, app, env, actor, "lock");
  await audit(deps, actor, "lock", "recorded", { app, env, detail: { ...(reason ? { reason } : {}), ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) } });
  return expiresAt;
}

export async function unlockEnvironment(deps: EngineDeps, app: string, env: string, actor: string): Promise<boolean> {
  const removed = await deleteEnvironmentLock(deps.db, app, env);
  await audit(deps, actor, "unlock", removed ? "recorded" : "not_locked", { app, env });
  return removed;
}
