import { doneRunsBetween } from "../../db/queries/beat-runs.ts";
import { deploymentsEndedBetween } from "../../db/queries/deployments.ts";
import type { Playbook } from "../../playbooks/types.ts";
import { digestText, summarizeDay, type Day, type DayDeployment } from "./digest-text.ts";
import { report } from "./report.ts";
import type { BeatJob } from "./run.ts";

/** The span a digest covers, ending at its scheduled time. */
export const DIGEST_WINDOW_MS = 24 * 3_600_000;

/**
 * Who gets which part of a day: the digest's own channel gets all of it (every environment, and
 * host changes); each Slack channel an environment binds gets its own environments' lines. A
 * channel with nothing in the day gets nothing; the digest channel is not posted twice. Pure.
 */
export function digestPosts(playbook: Playbook, day: Day, until: Date): { origin: string; text: string }[] {
  const digest = playbook.beat.digest;
  if (!digest) return [];
  const out: { origin: string; text: string }[] = [];
  const all = digestText(until, day);
  if (all) out.push({ origin: `slack:${digest.channel}`, text: all });
  const byChannel = new Map<string, Day["envs"]>();
  for (const e of day.envs) {
    for (const channel of playbook.apps[e.app]?.environments[e.env]?.channels ?? []) {
      if (channel !== digest.channel) byChannel.set(channel, [...(byChannel.get(channel) ?? []), e]);
    }
  }
  for (const [channel, envs] of byChannel) {
    const text = digestText(until, { envs, hosts: [] });
    if (text) out.push({ origin: `slack:${channel}`, text });
  }
  return out;
}

/**
 * The digest job (only scheduled when `beat: digest:` is set): the day before its scheduled time
 * (deployments that ended in it, and what the beat's reconcile, orphans and hosts jobs did) told
 * per channel (digestPosts). The tick's beat_runs row makes a tick post once, however many
 * workers get it. A day with nothing in it posts nothing.
 */
export const digestJob: BeatJob = async (deps, tick) => {
  const until = tick.scheduledFor;
  const from = new Date(until.getTime() - DIGEST_WINDOW_MS);
  const deployments = (await deploymentsEndedBetween(deps.db, from, until)).map(
    (d): DayDeployment => ({ id: d.id, kind: d.kind, app: d.app, env: d.env, status: d.status as DayDeployment["status"], errorCode: d.errorCode }),
  );
  const runs = (await doneRunsBetween(deps.db, from, until)).filter((r) => r.job !== "digest");
  const day = summarizeDay(deployments, runs);
  const posts = digestPosts(deps.playbook, day, until);
  const reports: string[] = [];
  for (const p of posts) reports.push(...(await report(deps, "digest", [{ origin: p.origin }], p.text)));
  return {
    outcome: posts.length ? "done" : "idle",
    detail: { from: from.toISOString(), until: until.toISOString(), environments: day.envs.length, channels: posts.map((p) => p.origin), reports },
  };
};
