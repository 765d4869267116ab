import type { App, Environment, Squad } from "../../playbooks/types.ts";
import type { EngineApiDeps } from "../context.ts";
import type { EngineEventBody, StepName } from "../event-types.ts";
import type { DeploymentRow } from "../../db/schema/index.ts";

export type StepResults = Partial<Record<StepName, Record<string, unknown>>>;

/** What a step sees: the deployment, its playbook entries, earlier steps' results, a way to report. */
export interface StepContext {
  deps: EngineApiDeps;
  deployment: DeploymentRow;
  app: App;
  environment: Environment;
  squad: Squad;
  results: StepResults;
  emit(body: EngineEventBody): Promise<void>;
  progress(message: string): Promise<void>;
  log(title: string, text: string): Promise<void>;
  redact(text: string): string;
}

export interface StepOutcome {
  result?: Record<string, unknown>;
  /** One line for the checklist ("3f2a1c9", "reused build", "4 procs on 3 hosts"). */
  summary?: string;
}

/**
 * One pipeline step. `run` must be idempotent: a recovered deployment re-runs the step that was
 * in progress when its worker died, so "already done" has to count as success.
 */
export interface Step {
  name: StepName;
  run(ctx: StepContext): Promise<StepOutcome>;
}
