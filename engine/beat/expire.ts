import { durationText, utcTime } from "../../lib/time-text.ts";
import { overdueApprovals } from "../../db/queries/approvals.ts";
import { runningSince, updateDeployment } from "../../db/queries/deployments.ts";
import { removeEndedLocks } from "../../db/queries/locks.ts";
import { audit, expireApproval } from "../api.ts";
import { abandonDeployment } from "../pipeline/run.ts";
import { requeueOrphans } from "../requeue.ts";
import { originsOf, report } from "./report.ts";
import type { BeatJob } from "./run.ts";

/**
 * What time ends: approvals past their deadline are rejected as expired (their thread says so);
 * locks taken for a while (`lock web production 2h`) are released when the while is over (the
 * thread or channel where the lock was taken hears it, and the environment's channels); deployments running longer than `stuck_after` are failed and
 * compensated (their thread says so). Deployments whose BullMQ job was lost are enqueued again.
 */
export const expireJob: BeatJob = async (deps) => {
  const now = deps.now?.() ?? new Date();
  const expired: string[] = [];
  for (const id of await overdueApprovals(deps.db, now)) if (await expireApproval(deps, id)) expired.push(id);

  const unlocked: string[] = [];
  const ended = await removeEndedLocks(deps.db, now);
  for (const l of ended) {
    unlocked.push(`${l.app} ${l.env}`);
    await audit(deps, "raptor", "unlock", "expired", { app: l.app, env: l.env, detail: { heldBy: l.heldBy, expiresAt: l.expiresAt?.toISOString() } });
    // Where it was taken (the thread of the `lock` command), then the environment's channels.
    // Once per place: a lock typed in the terminal of an environment whose news goes to the terminal is said there once.
    const targets = [...new Set([...(l.origin ? [l.origin] : []), ...originsOf(deps.playbook, l.app, l.env)])].map((origin) => ({ origin, app: l.app, env: l.env }));
    await report(deps, "expire", targets, `${l.app} ${l.env} is unlocked: the lock ${l.heldBy} took${l.reason ? ` (${l.reason})` : ""} ended at ${utcTime(l.expiresAt!)}.`);
  }

  const stuckBefore = new Date(now.getTime() - deps.playbook.beat.expire.stuck_after_ms);
  const failed: string[] = [];
  for (const id of await runningSince(deps.db, stuckBefore)) {
    // A worker still on it (hung, not dead) stops at its next step boundary instead of going on.
    await updateDeployment(deps.db, id, { cancelRequested: true });
    // Ended once: the worker ending it meanwhile (a step that failed, its last step done) keeps its verdict.
    if (await abandonDeployment(deps, id, `it ran longer than ${durationText(deps.playbook.beat.expire.stuck_after_ms)} (the beat's stuck_after)`)) failed.push(id);
  }
  const requeued = await requeueOrphans(deps);
  const acted = expired.length + unlocked.length + failed.length + requeued > 0;
  return { outcome: acted ? "done" : "idle", detail: { approvalsExpired: expired, locksReleased: unlocked, stuckFailed: failed, requeued } };
};
