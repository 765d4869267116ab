import { deploymentsInLine } from "../../db/queries/deployments.ts";
import { requestDeployment } from "../api.ts";
import type { EngineApiDeps } from "../context.ts";
import { EngineError } from "../errors.ts";
import { withRedisLock } from "../locks.ts";
import type { Environment } from "../../playbooks/types.ts";
import { currentRelease } from "../../db/queries/releases.ts";
import { describeFinding, diagnose } from "./diagnose.ts";
import { readFleetView } from "./fleet-view.ts";
import { originsOf } from "./report.ts";
import { announceRepair } from "./repair-news.ts";
import type { BeatJob } from "./run.ts";

/**
 * The reconcile job: for every environment with a serving release, compares what should run (the
 * swarm sizes, the pool) with what supervisord and the balancer report. Anything off is repaired
 * by a `repair` deployment (engine/pipeline/plan-steps.ts): it waits its turn in the environment's line
 * like any deployment, so a repair never runs alongside one, and its thread in the environment's
 * first channel tells what was wrong and what was done; its other channels hear when it starts and
 * how it ends (repair-news.ts). An environment with a deployment in its line is
 * left alone this time (the deployment itself puts the swarm in place); a locked one is skipped.
 */
export const reconcileJob: BeatJob = async (deps) => {
  const repairs: Repair[] = [];
  const skipped: string[] = [];
  for (const app of Object.values(deps.playbook.apps)) {
    for (const environment of Object.values(app.environments)) {
      // Two runs of the job may overlap (a slow one and the next tick, on two workers): one at a
      // time per environment, so the second sees the first's repair in the line, not a second repair.
      const key = `${deps.prefix}beat:reconcile:${app.name}:${environment.name}`;
      const r = await withRedisLock(deps.redis, key, () => reconcileEnvironment(deps, environment), { ttlMs: 30_000, waitMs: 120_000 });
      if (r?.repair) repairs.push(r.repair);
      if (r?.skipped) skipped.push(r.skipped);
    }
  }
  return { outcome: repairs.length ? "done" : "idle", detail: { repairs, skipped } };
};

interface Repair {
  app: string;
  env: string;
  deploymentId: string;
  findings: string[];
  /** Finding kinds (diagnose.ts), one per proc for `missing`: the digest counts drift by kind. */
  kinds: string[];
}

/** One environment: its repair when it needs one, or why it was skipped, or nothing. */
async function reconcileEnvironment(deps: EngineApiDeps, environment: Environment): Promise<{ repair?: Repair; skipped?: string } | undefined> {
  const { app, name: env } = environment;
  const serving = await currentRelease(deps.db, app, env);
  if (!serving) return undefined;
  const [open] = await deploymentsInLine(deps.db, app, env);
  if (open) return { skipped: `${app} ${env}: ${open} is in its line` };
  const squad = deps.playbook.squads[environment.squad]!;
  const found = diagnose(await readFleetView(deps, environment, squad, serving.id));
  if (found.length === 0) return undefined;
  const findings = found.map(describeFinding);
  const kinds = found.flatMap((f) => (f.kind === "missing" ? Array<string>(f.count).fill(f.kind) : [f.kind]));
  try {
    const r = await requestDeployment(deps, {
      kind: "repair",
      app,
      env,
      // A repair restores what was deployed: a freeze window does not stop it (a lock does).
      params: { force: true },
      requestedBy: "raptor",
      origin: originsOf(deps.playbook, app, env)[0]!,
      summary: `repair ${app} ${env}: ${findings.join("; ")}`.slice(0, 200),
    });
    await announceRepair(deps, app, env, r.id, findings);
    return { repair: { app, env, deploymentId: r.id, findings, kinds } };
  } catch (err) {
    if (err instanceof EngineError && err.code === "lock_held") return { skipped: `${app} ${env}: locked (${findings.join("; ")})` };
    throw err;
  }
}
