import { deploymentsInLine } from "../../db/queries/deployments.ts";
import { requestDeployment } from "../api.ts";
import { EngineError } from "../errors.ts";
import { currentRelease } from "../../db/queries/releases.ts";
import { describeFinding, diagnose } from "./diagnose.ts";
import { readFleetView } from "./fleet-view.ts";
import { originsOf } from "./report.ts";
import { announceRepair } from "./repair-news.ts";
import type { BeatJob } from "./run.ts";

/**
 * The reconcile job: for every environment with a serving release, compares what should run (the
 * swarm sizes, the pool) with what supervisord and the balancer report. Anything off is repaired
 * by a `repair` deployment (engine/pipeline/plan.ts): it waits its turn in the environment's line
 * like any deployment, so a repair never runs alongside one, and its thread in the environment's
 * first channel tells what was wrong and what was done; its other channels hear when it starts and
 * how it ends (repair-news.ts). An environment with a deployment in its line is
 * left alone this time (the deployment itself puts the swarm in place); a locked one is skipped.
 */
export const reconcileJob: BeatJob = async (deps) => {
  const repairs: { app: string; env: string; deploymentId: string; findings: string[]; kinds: string[] }[] = [];
  const skipped: string[] = [];
  for (const app of Object.values(deps.playbook.apps)) {
    for (const environment of Object.values(app.environments)) {
      const serving = await currentRelease(deps.db, app.name, environment.name);
      if (!serving) continue;
      const [open] = await deploymentsInLine(deps.db, app.name, environment.name);
      if (open) {
        skipped.push(`${app.name} ${environment.name}: ${open} is in its line`);
        continue;
      }
      const squad = deps.playbook.squads[environment.squad]!;
      const found = diagnose(await readFleetView(deps, environment, squad, serving.id));
      const findings = found.map(describeFinding);
      // The digest counts drift by kind; a `missing` finding counts each proc short.
      const kinds = found.flatMap((f) => (f.kind === "missing" ? Array<string>(f.count).fill(f.kind) : [f.kind]));
      if (findings.length === 0) continue;
      try {
        const r = await requestDeployment(deps, {
          kind: "repair",
          app: app.name,
          env: environment.name,
          // A repair restores what was deployed: a freeze window does not stop it (a lock does).
          params: { force: true },
          requestedBy: "raptor",
          origin: originsOf(deps.playbook, app.name, environment.name)[0]!,
          summary: `repair ${app.name} ${environment.name}: ${findings.join("; ")}`.slice(0, 200),
        });
        repairs.push({ app: app.name, env: environment.name, deploymentId: r.id, findings, kinds });
        await announceRepair(deps, app.name, environment.name, r.id, findings);
      } catch (err) {
        if (err instanceof EngineError && err.code === "lock_held") skipped.push(`${app.name} ${environment.name}: locked (${findings.join("; ")})`);
        else throw err;
      }
    }
  }
  return { outcome: repairs.length ? "done" : "idle", detail: { repairs, skipped } };
};
