import { eventsOf, type DeploymentEventRow } from "../../db/queries/deployment-events.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import type { EngineEvent } from "../../engine/event-types.ts";
import type { Reply } from "../dispatch-types.ts";
import { threadVerb } from "../notify/format.ts";
import { renderTerminal } from "../notify/terminal-lines.ts";
import { reduceThread, type ThreadState } from "../notify/thread.ts";

/** A stored event row as the event the bot folded when it happened (Postgres keeps what the stream carried). */
export function eventOfRow(row: DeploymentEventRow): EngineEvent {
  return { ...(row.data as object), id: String(row.id), deploymentId: row.deploymentId, at: row.createdAt.toISOString() } as EngineEvent;
}

/**
 * Replays a deployment's thread from its stored events: the same lines the terminal printed as it
 * ran (request, steps with their notes and logs, failures, outcome), and the folded thread. Pure.
 */
export function replayThread(events: readonly EngineEvent[]): { state: ThreadState | undefined; lines: string[] } {
  let state: ThreadState | undefined;
  const lines: string[] = [];
  for (const e of events) {
    const next = reduceThread(state, e);
    lines.push(...renderTerminal(state, next, e));
    state = next;
  }
  return { state, lines };
}

/**
 * `show <id>`: a deployment's thread and outcome, replayed from Postgres (events are redacted
 * when emitted). Too long for one chat message, the tail (the outcome) is kept and the whole goes
 * in a file.
 */
export async function showAnswer(deps: EngineApiDeps, id: string): Promise<Reply> {
  const { state, lines } = replayThread((await eventsOf(deps.db, id)).map(eventOfRow));
  if (!state) return { kind: "refused", code: "not_found", text: `deployment ${id} has no recorded events yet. \`queue\` lists the open ones.` };
  const status = state.status.replace(/_/g, " ");
  return {
    kind: "answer",
    title: `${id}: ${threadVerb(state)} ${state.app} ${state.env}, ${status}`,
    text: lines.join("\n"),
    overflow: { keep: "tail", more: `The start is cut; \`bin/raptor say "show ${id}"\` prints it whole.`, file: `${id}.txt` },
    // Already terminal text (renderTerminal), logs and all.
    verbatim: true,
  };
}
