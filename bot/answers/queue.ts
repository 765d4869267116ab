import { openDeployments } from "../../db/queries/deployments.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import type { Reply } from "../dispatch-types.ts";

/** Open deployments in request order, then the beat's maintenance jobs waiting or running. */
export async function queueAnswer(deps: EngineApiDeps): Promise<Reply> {
  const open = await openDeployments(deps.db);
  const lines = open.map((d) => `${d.id}  ${d.status.replace("_", " ")}  ${d.kind} ${d.app} ${d.env}  by ${d.requestedBy}  since ${d.createdAt.toISOString().slice(11, 19)}`);
  const jobs = await deps.queues.maintenance.getJobs(["active", "waiting", "delayed", "prioritized"]);
  const maintenance = await Promise.all(
    jobs.map(async (j) => {
      const state = (await j.getState()) === "active" ? "running" : "waiting";
      return `${j.id}  ${state}  maintenance ${j.name}`;
    }),
  );
  const text = [...lines, ...maintenance.sort()].join("\n");
  return { kind: "answer", title: "queue", text: text || "Nothing queued or running." };
}
