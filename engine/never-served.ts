import type { Db } from "../db/client.ts";
import type { DeploymentRow, ReleaseRow } from "../db/schema/index.ts";
import { servedReleases } from "../db/queries/releases.ts";
import { deploymentsOfReleases } from "../db/queries/deployments.ts";
import { stepsOf } from "../db/queries/deployment-steps.ts";
import { EngineError } from "./errors.ts";

/**
 * A rollback goes back to a release that served: that is what an operator expects of it. A release
 * whose deployment failed or was cancelled never ran in front of anyone, so rolling back to it is
 * refused unless typed as `rollback!` (new-user trial, finding 6: `rollback hello local v14`, a
 * release that failed its uptest, was queued without a word and failed the same way).
 */

/** The last deployment that shipped a release, as the refusal names it. */
export interface LastAttempt {
  id: string;
  status: DeploymentRow["status"];
  errorCode?: string | null;
  /** The step it failed at (`uptest`), when it failed at one. */
  failedStep?: string;
}

/**
 * The refusal of `rollback <app> <env> v<number>` to a release that never served, with what became
 * of its last deployment and the `rollback!` that goes there anyway. Pure.
 */
export function neverServedText(app: string, env: string, number: number, last: LastAttempt | undefined): string {
  const anyway = `A rollback goes back to a release that served; to roll back to v${number} anyway, type \`rollback! ${app} ${env} v${number}\`.`;
  if (!last) return `v${number} never served ${app} ${env}. ${anyway}`;
  switch (last.status) {
    case "failed": {
      const at = last.failedStep ? ` at ${last.failedStep}` : "";
      const code = last.errorCode ? ` (${last.errorCode})` : "";
      return `v${number} never served ${app} ${env}: ${last.id} failed${at}${code}. ${anyway}`;
    }
    case "cancelled":
      return `v${number} never served ${app} ${env}: ${last.id} was cancelled. ${anyway}`;
    case "queued":
    case "awaiting_approval":
    case "running":
      return `v${number} has not served ${app} ${env} yet: ${last.id} is still ${last.status.replace(/_/g, " ")}. ${anyway}`;
    default:
      return `v${number} never served ${app} ${env}: ${last.id} ended ${last.status.replace(/_/g, " ")}. ${anyway}`;
  }
}

/**
 * Refuses a rollback to `release` when neither it nor a release with the same build and config
 * (a rollback to it, a redeploy) was ever left serving by a successful deployment.
 * @throws EngineError `needs_confirmation`, carrying the `rollback!` command as `confirm`.
 */
export async function checkServedBefore(db: Db, release: ReleaseRow): Promise<void> {
  const { app, env, number } = release;
  const served = await servedReleases(db, app, env);
  if (served.some((s) => s.id === release.id || s.hash === release.hash)) return;
  const [newest] = await deploymentsOfReleases(db, [release.id]);
  let last: LastAttempt | undefined;
  if (newest) {
    const failedStep = newest.status === "failed" ? (await stepsOf(db, newest.id)).find((s) => s.status === "failed")?.name : undefined;
    last = { id: newest.id, status: newest.status, errorCode: newest.errorCode, ...(failedStep ? { failedStep } : {}) };
  }
  throw new EngineError("needs_confirmation", neverServedText(app, env, number, last), { confirm: `rollback! ${app} ${env} v${number}` });
}
