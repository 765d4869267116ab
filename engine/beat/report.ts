import { randomBytes } from "node:crypto";
import type { Playbook } from "../../playbooks/types.ts";
import type { EngineDeps } from "../context.ts";
import { eventStreamKey } from "../events.ts";
import type { EngineEventBody } from "../event-types.ts";
import { maskSecrets } from "../../playbooks/resolve.ts";

export type BeatReport = Extract<EngineEventBody, { type: "beat.report" }>;

/**
 * Where an environment's beat news goes: `slack:<channel>` for each of its channels, or the
 * terminal when it has none (the terminal chat of `raptor all` prints it).
 */
export function originsOf(playbook: Playbook, app: string, env: string): string[] {
  const environment = playbook.apps[app]?.environments[env];
  const channels = environment?.channels ?? [];
  return channels.length ? channels.map((c) => `slack:${c}`) : ["terminal"];
}

/** Origins of every environment placed on a squad (a host's news concerns all of them). */
export function squadOrigins(playbook: Playbook, squad: string): { app: string; env: string; origin: string }[] {
  const out: { app: string; env: string; origin: string }[] = [];
  for (const app of Object.values(playbook.apps)) {
    for (const env of Object.values(app.environments)) {
      if (env.squad === squad) for (const origin of originsOf(playbook, app.name, env.name)) out.push({ app: app.name, env: env.name, origin });
    }
  }
  return out;
}

/**
 * Says `text` once in each origin (a message through the same event stream as threads; the bot
 * turns it into one channel message). Text passes the playbook's secret mask.
 * Returns the report ids, for the beat run's record.
 */
export async function report(
  deps: Pick<EngineDeps, "redis" | "prefix" | "playbook">,
  job: string,
  targets: { origin: string; app?: string; env?: string }[],
  text: string,
): Promise<string[]> {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.origin)) continue;
    seen.add(t.origin);
    const deploymentId = `r-${randomBytes(6).toString("hex")}`;
    const body: BeatReport = { type: "beat.report", job, origin: t.origin, text: maskSecrets(deps.playbook, text), ...(t.app ? { app: t.app } : {}), ...(t.env ? { env: t.env } : {}) };
    await deps.redis.xadd(eventStreamKey(deps.prefix), "MAXLEN", "~", 100_000, "*", "e", JSON.stringify({ ...body, deploymentId, at: new Date().toISOString() }));
    ids.push(deploymentId);
  }
  return ids;
}
