/**
 * A repair's news for every channel of its environment. The repair deployment's thread goes to
 * the environment's first channel (a thread has one home); each other channel hears, in one
 * message each, that the repair started (what was wrong, where the thread is) and how it ended.
 */
import type { EngineDeps } from "../context.ts";
import { originsOf, report } from "./report.ts";

/** `slack:#web` -> `#web`; the terminal stays "the terminal". */
export function originName(origin: string): string {
  return origin.startsWith("slack:") ? origin.slice("slack:".length) : "the terminal";
}

/** The message other channels get when a repair is queued. Pure. */
export function repairStartText(app: string, env: string, deploymentId: string, findings: readonly string[], threadOrigin: string): string {
  return `repairing ${app} ${env} (${deploymentId}): ${findings.join("; ")}. Its thread is in ${originName(threadOrigin)}.`;
}

/** The message other channels get when a repair ends. Pure. */
export function repairEndText(app: string, env: string, deploymentId: string, status: "succeeded" | "failed" | "cancelled", error?: string): string {
  return status === "succeeded" ? `repair ${deploymentId} of ${app} ${env} succeeded: it runs as its swarm says again.` : `repair ${deploymentId} of ${app} ${env} ${status}${error ? `: ${error}` : ""}.`;
}

/** The origins of an environment other than the one its repair threads go to (the first). */
export function otherOrigins(deps: Pick<EngineDeps, "playbook">, app: string, env: string): { origin: string; app: string; env: string }[] {
  return originsOf(deps.playbook, app, env)
    .slice(1)
    .map((origin) => ({ origin, app, env }));
}

/** Tells the environment's other channels a repair started. Returns the report ids. */
export async function announceRepair(deps: Pick<EngineDeps, "redis" | "prefix" | "playbook">, app: string, env: string, deploymentId: string, findings: readonly string[]): Promise<string[]> {
  const others = otherOrigins(deps, app, env);
  if (others.length === 0) return [];
  return report(deps, "reconcile", others, repairStartText(app, env, deploymentId, findings, originsOf(deps.playbook, app, env)[0]!));
}

/** Tells the environment's other channels how a repair ended (called by the pipeline's finish). */
export async function announceRepairEnd(deps: Pick<EngineDeps, "redis" | "prefix" | "playbook">, app: string, env: string, deploymentId: string, status: "succeeded" | "failed" | "cancelled", error?: string): Promise<void> {
  const others = otherOrigins(deps, app, env);
  if (others.length) await report(deps, "reconcile", others, repairEndText(app, env, deploymentId, status, error));
}
