import { getBuild } from "../db/queries/builds.ts";
import { currentRelease } from "../db/queries/releases.ts";
import { environmentOf } from "../playbooks/resolve.ts";
import { requestDeployment, type DeploymentRequest, type RequestedDeployment } from "./api.ts";
import type { EngineApiDeps } from "./context.ts";
import { EngineError } from "./errors.ts";

/**
 * `promote <app> <from> <to>`: a deploy to `env` of the build that serves `from` when asked (the
 * same commit and the same build artifact: no rebuild), released with `env`'s own config. The
 * source release is fixed now, in the deployment's params, so a deploy to `from` while this one
 * waits for approval does not change what it ships. Throws EngineError not_found (nothing serves
 * `from`) or build_missing (its build is gone), and whatever requestDeployment refuses.
 */
export async function requestPromotion(
  deps: EngineApiDeps,
  req: Omit<DeploymentRequest, "kind" | "params"> & { from: string; force?: boolean },
): Promise<RequestedDeployment> {
  if (!environmentOf(deps.playbook, req.app, req.from)) throw new EngineError("not_found", `there is no environment ${req.from} for app ${req.app}`);
  const source = await currentRelease(deps.db, req.app, req.from);
  if (!source) throw new EngineError("not_found", `${req.app} has never been deployed to ${req.from}: there is nothing to promote.`);
  const build = await getBuild(deps.db, source.buildId);
  if (!build || build.status !== "succeeded" || build.prunedAt) {
    throw new EngineError("build_missing", `the build of ${req.app} ${req.from} v${source.number} is no longer stored, so it cannot be promoted; deploy ${build ? build.commit.slice(0, 7) : "it"} to ${req.from} again to rebuild it.`);
  }
  const { from, force, ...rest } = req;
  return requestDeployment(deps, {
    ...rest,
    kind: "deploy",
    params: { promote: { env: from, release: source.number, buildId: build.id, commit: build.commit }, ...(force ? { force } : {}) },
  });
}
