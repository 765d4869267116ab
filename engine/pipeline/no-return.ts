import type { StepName } from "../event-types.ts";

/**
 * The steps after which a deployment can no longer be stopped and undone: `route` moves traffic
 * to the new procs (its compensation would move it back mid-reload), and what follows it
 * (`teardown`) only cleans up after a change that has happened. A kind without a route (restart)
 * has its one step as its point of no return: the pipeline only checks a cancel between steps.
 */
const NO_RETURN: ReadonlySet<string> = new Set<StepName>(["route", "teardown"]);

/** One step checkpoint as this rule reads it (deployment_steps: name, status, position order). */
export interface StepState {
  name: string;
  status: string;
}

/**
 * The step under way past the point of no return, if the deployment is there: a cancel then is
 * too late, since the pipeline honours a cancel only at the boundary before a step and routing has
 * begun (or, with no route step, the last step runs). Undefined while a cancel can still stop it.
 * `steps` in pipeline order. Pure.
 */
export function pastNoReturn(steps: readonly StepState[]): string | undefined {
  const begun = (s: StepState) => s.status === "running" || s.status === "succeeded" || s.status === "failed";
  const hasRoute = steps.some((s) => NO_RETURN.has(s.name));
  const last = steps[steps.length - 1];
  const point = hasRoute ? steps.filter((s) => NO_RETURN.has(s.name) && begun(s)) : last && begun(last) ? [last] : [];
  if (point.length === 0) return undefined;
  return (point.find((s) => s.status === "running") ?? point[point.length - 1]!).name;
}

/** The step running now (for labelling a note in the thread), else the last one that ended, else the first. Pure. */
export function currentStep(steps: readonly StepState[]): string | undefined {
  const running = steps.find((s) => s.status === "running");
  if (running) return running.name;
  const ended = steps.filter((s) => s.status === "succeeded" || s.status === "failed");
  return ended[ended.length - 1]?.name ?? steps[0]?.name;
}
