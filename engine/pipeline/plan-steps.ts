import type { DeploymentKind } from "../../db/schema/enums.ts";
import type { StepName } from "../event-types.ts";

/**
 * The ordered steps of a deployment, by kind. Scale, restart, rollback and config changes are
 * the deploy pipeline with steps left out (DESIGN.md "Deployment pipeline").
 *  - rollback reuses an old release's build and config, so it skips resolve and build, and runs
 *    no release hook (migrations run forward only).
 *  - config keeps the current build, cuts a release with the new config, and runs the hook.
 *  - scale keeps the current release: start/uptest the added procs, route, tear down removed ones.
 *  - restart replaces procs host by host inside its own step.
 *  - repair (the beat's reconcile) keeps the serving release: mend restarts crashed procs and
 *    writes off lost ones, then start/uptest/route/teardown as for scale put the swarm back.
 */
export function planSteps(kind: DeploymentKind, opts: { hasReleaseHook: boolean }): StepName[] {
  const hook: StepName[] = opts.hasReleaseHook ? ["release_hook"] : [];
  switch (kind) {
    case "deploy":
      return ["resolve", "build", "release", "start", "uptest", ...hook, "route", "teardown"];
    case "config":
      return ["release", "start", "uptest", ...hook, "route", "teardown"];
    case "rollback":
      return ["release", "start", "uptest", "route", "teardown"];
    case "scale":
      return ["start", "uptest", "route", "teardown"];
    case "restart":
      return ["restart"];
    case "repair":
      return ["mend", "start", "uptest", "route", "teardown"];
    default: {
      const never: never = kind;
      throw new Error(`no plan for ${String(never)}`);
    }
  }
}
