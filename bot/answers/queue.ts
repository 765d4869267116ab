import { openDeployments } from "../../db/queries/deployments.ts";
import { nextRunOf, scheduledJobs } from "../../engine/beat/schedule.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import { age, utcTimeFrom } from "../../lib/time-text.ts";
import type { Reply } from "../dispatch-types.ts";
import { threadVerb } from "../notify/format.ts";

/** One open deployment as `queue` lists it. */
export interface QueuedDeployment {
  id: string;
  status: string;
  kind: string;
  /** The environment a promote takes its build from (a promote is a deploy with this set). */
  promotedFrom?: string;
  app: string;
  env: string;
  requestedBy: string;
  createdAt: Date;
}

/** A deployment row as `queue` lists it: a promote keeps where it promotes from (`params.promote`). Pure. */
export function queuedDeployment<D extends Omit<QueuedDeployment, "promotedFrom"> & { params: { promote?: { env: string } } }>(d: D): QueuedDeployment {
  return d.params.promote ? { ...d, promotedFrom: d.params.promote.env } : d;
}

/**
 * `queue` as text: open deployments in request order, the beat's maintenance jobs waiting or
 * running now, then when each scheduled job runs next (they run for a moment, so a `queue` typed
 * between runs would otherwise never show them). Pure.
 */
export function queueText(open: readonly QueuedDeployment[], maintenance: readonly string[], next: readonly { job: string; at: Date }[], now: Date): string {
  // Named as its thread names it (threadVerb): a promote read "deploy hello production" (trial 2, L3).
  const what = (d: QueuedDeployment) => `${threadVerb(d).toLowerCase()} ${d.app} ${d.env}${d.promotedFrom !== undefined ? ` from ${d.promotedFrom}` : ""}`;
  const lines = open.map((d) => `${d.id}  ${d.status.replace("_", " ")}  ${what(d)}  by ${d.requestedBy}  since ${utcTimeFrom(d.createdAt, now)}`);
  const out = [...(lines.length ? lines : ["No deployment queued or running."]), ...[...maintenance].sort()];
  if (next.length) out.push(`maintenance next: ${[...next].sort((a, b) => a.at.getTime() - b.at.getTime()).map((n) => `${n.job} in ${age(n.at, now)}`).join(", ")} (\`beat\` shows what each did)`);
  return out.join("\n");
}

/** Open deployments in request order, then the beat's maintenance jobs: running, waiting, next. */
export async function queueAnswer(deps: EngineApiDeps, now = new Date()): Promise<Reply> {
  const open = (await openDeployments(deps.db)).map(queuedDeployment);
  const jobs = await deps.queues.maintenance.getJobs(["active", "waiting", "delayed", "prioritized"]);
  const maintenance = await Promise.all(
    jobs.map(async (j) => {
      const state = (await j.getState()) === "active" ? "running" : "waiting";
      return `${j.id}  ${state}  maintenance ${j.name}`;
    }),
  );
  const next = scheduledJobs(deps.playbook.beat).flatMap(({ job, schedule }) => {
    const at = nextRunOf(schedule);
    return at ? [{ job, at }] : [];
  });
  return { kind: "answer", title: "queue", text: queueText(open, maintenance, next, now) };
}
