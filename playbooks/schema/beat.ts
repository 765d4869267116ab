/**
 * `beat:` — when the maintenance jobs run, and their few settings. Each job is a node-cron
 * expression (five fields, or six with seconds first), or a mapping with `schedule` and the job's
 * own keys:
 *
 *   beat:
 *     reconcile: "*\/30 * * * * *"
 *     orphans:   { schedule: "*\/5 * * * *", grace: 10m }
 *     hosts:     "*\/1 * * * *"
 *     prune:     { schedule: "0 3 * * *", keep_builds: 5 }
 *     expire:    { schedule: "*\/30 * * * * *", stuck_after: 2h }
 *     digest:    { schedule: "0 9 * * 1-5", channel: "#deploys" }   # off when absent
 *
 * Pure: validation returns the settings or the mistakes with their paths; expressions are checked
 * with node-cron's own validateDetailed, so what loads is what the beat can schedule.
 */
import cron from "node-cron";
import { didYouMean } from "../../lib/suggest.ts";
import { parseDuration } from "../duration.ts";
import { CHANNEL } from "./environments.ts";
import type { BeatJobName, BeatSettings } from "../types.ts";
import type { PathKey } from "./issues.ts";

export const beatJobNames = ["reconcile", "orphans", "hosts", "prune", "expire", "digest"] as const satisfies readonly BeatJobName[];

/** The schedules and settings when the playbooks say nothing; digest is off unless configured. */
export const DEFAULT_BEAT: BeatSettings = {
  reconcile: { schedule: "*/30 * * * * *" },
  orphans: { schedule: "*/5 * * * *", grace_ms: 10 * 60_000 },
  hosts: { schedule: "*/1 * * * *" },
  prune: { schedule: "0 3 * * *", keep_builds: 5 },
  expire: { schedule: "*/30 * * * * *", stuck_after_ms: 2 * 3_600_000 },
};

/** The keys each job takes besides `schedule`. */
const EXTRA_KEYS: Record<BeatJobName, readonly string[]> = {
  reconcile: [],
  orphans: ["grace"],
  hosts: [],
  prune: ["keep_builds"],
  expire: ["stuck_after"],
  digest: ["channel"],
};

export interface BeatIssue {
  path: PathKey[];
  message: string;
}

/** Why node-cron refuses `expr`, or undefined when it schedules it. */
export function scheduleProblem(expr: string): string | undefined {
  const v = cron.validateDetailed(expr);
  if (v.valid) return undefined;
  const reasons = v.errors.map((e) => (e.field === "expression" ? e.message : `${e.field}: ${e.message}`));
  return `${JSON.stringify(expr)} is not a cron schedule (${reasons.join("; ") || "node-cron refuses it"}); write five fields "m h dom mon dow", or six with seconds first`;
}

/** Validates one `beat:` mapping (of one file). Unknown jobs, bad schedules and bad settings are all reported. */
export function parseBeatSection(body: Record<string, unknown>): { settings: Partial<BeatSettings>; issues: BeatIssue[] } {
  const issues: BeatIssue[] = [];
  const settings: Partial<BeatSettings> = {};
  for (const [job, raw] of Object.entries(body)) {
    const at: PathKey[] = ["beat", job];
    if (!(beatJobNames as readonly string[]).includes(job)) {
      issues.push({ path: at, message: `unknown beat job "${job}"; the jobs are ${beatJobNames.join(", ")}.${didYouMean(job, beatJobNames)}` });
      continue;
    }
    const name = job as BeatJobName;
    const entry: Record<string, unknown> = typeof raw === "string" ? { schedule: raw } : raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    if (raw === null || (typeof raw !== "string" && (typeof raw !== "object" || Array.isArray(raw)))) {
      issues.push({ path: at, message: `must be a cron schedule string or a mapping with "schedule"` });
      continue;
    }
    for (const key of Object.keys(entry)) {
      if (key !== "schedule" && !EXTRA_KEYS[name].includes(key)) {
        const allowed = ["schedule", ...EXTRA_KEYS[name]];
        issues.push({ path: [...at, key], message: `unknown key "${key}" for the ${name} job (it takes ${allowed.join(", ")}).${didYouMean(key, allowed)}` });
      }
    }
    const schedule = entry.schedule;
    if (typeof schedule !== "string") {
      issues.push({ path: typeof raw === "string" ? at : [...at, "schedule"], message: `the ${name} job needs a schedule (a node-cron expression string)` });
      continue;
    }
    const problem = scheduleProblem(schedule);
    if (problem) {
      issues.push({ path: typeof raw === "string" ? at : [...at, "schedule"], message: problem });
      continue;
    }
    const duration = (key: string, fallback: number): number | undefined => {
      const v = entry[key];
      if (v === undefined) return fallback;
      const ms = typeof v === "string" ? parseDuration(v) : undefined;
      if (ms === undefined) issues.push({ path: [...at, key], message: `must be a duration like 10m, 90s or 2h` });
      return ms;
    };
    switch (name) {
      case "reconcile":
      case "hosts":
        settings[name] = { schedule };
        break;
      case "orphans": {
        const grace_ms = duration("grace", DEFAULT_BEAT.orphans.grace_ms);
        if (grace_ms !== undefined) settings.orphans = { schedule, grace_ms };
        break;
      }
      case "expire": {
        const stuck_after_ms = duration("stuck_after", DEFAULT_BEAT.expire.stuck_after_ms);
        if (stuck_after_ms !== undefined) settings.expire = { schedule, stuck_after_ms };
        break;
      }
      case "prune": {
        const keep = entry.keep_builds ?? DEFAULT_BEAT.prune.keep_builds;
        if (typeof keep !== "number" || !Number.isInteger(keep) || keep < 1) issues.push({ path: [...at, "keep_builds"], message: "must be a whole number of builds, at least 1" });
        else settings.prune = { schedule, keep_builds: keep };
        break;
      }
      case "digest": {
        const channel = entry.channel;
        if (typeof channel !== "string" || channel.trim() === "") issues.push({ path: [...at, "channel"], message: 'the digest needs the channel it is posted to, e.g. channel: "#deploys"' });
        else if (!CHANNEL.test(channel)) issues.push({ path: [...at, "channel"], message: `${JSON.stringify(channel)} is not a channel: write a name like "#deploys" (quoted: a bare # starts a YAML comment) or a channel id like C0123ABCD` });
        else settings.digest = { schedule, channel };
        break;
      }
      default: {
        const never: never = name;
        void never;
      }
    }
  }
  return { settings, issues };
}
