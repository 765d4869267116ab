import { asc, inArray } from "drizzle-orm";
import { deployments } from "../../db/schema/index.ts";
import type { EngineApiDeps } from "../../engine/api.ts";
import type { Reply } from "../dispatch-types.ts";

export async function queueAnswer(deps: EngineApiDeps): Promise<Reply> {
  const open = await deps.db
    .select()
    .from(deployments)
    .where(inArray(deployments.status, ["running", "queued", "awaiting_approval"]))
    .orderBy(asc(deployments.seq));
  const lines = open.map((d) => `${d.id}  ${d.status.replace("_", " ")}  ${d.kind} ${d.app} ${d.env}  by ${d.requestedBy}  since ${d.createdAt.toISOString().slice(11, 19)}`);
  return { kind: "answer", title: "queue", text: lines.join("\n") || "Nothing queued or running." };
}
