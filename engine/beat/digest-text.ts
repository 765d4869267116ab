/**
 * The digest's text: a day of deployments, failures, repairs and drift, per environment. Pure;
 * digest.ts reads the day and posts.
 */
import { parseProcName } from "../../runners/proc-layout.ts";

/** A deployment that ended within the day. */
export interface DayDeployment {
  id: string;
  kind: string;
  app: string;
  env: string;
  status: "succeeded" | "failed" | "cancelled" | "rejected";
  errorCode: string | null;
}

/** A beat run within the day that did something (outcome `done`), with its record. */
export interface DayRun {
  job: string;
  detail: Record<string, unknown>;
}

/** One environment's day. */
export interface EnvDay {
  app: string;
  env: string;
  /** Deployments other than repairs, by how they ended. */
  deployments: Record<DayDeployment["status"], number>;
  /** Failed deployments (repairs too): id, kind and error code. */
  failures: { id: string; kind: string; code: string }[];
  repairs: number;
  /** What the beat found off: reconcile's findings and orphan programs removed, one line each. */
  drift: string[];
}

export interface Day {
  envs: EnvDay[];
  /** Host state changes the hosts job saw: "127.0.0.4 down". */
  hosts: string[];
}

const zero = (): Record<DayDeployment["status"], number> => ({ succeeded: 0, failed: 0, cancelled: 0, rejected: 0 });

/** Folds a day of deployments and beat runs into per-environment lines, sorted by app and env. */
export function summarizeDay(deployments: readonly DayDeployment[], runs: readonly DayRun[]): Day {
  const envs = new Map<string, EnvDay>();
  const of = (app: string, env: string) => {
    const key = `${app} ${env}`;
    let e = envs.get(key);
    if (!e) envs.set(key, (e = { app, env, deployments: zero(), failures: [], repairs: 0, drift: [] }));
    return e;
  };
  for (const d of deployments) {
    const e = of(d.app, d.env);
    if (d.kind === "repair") e.repairs++;
    else e.deployments[d.status]++;
    if (d.status === "failed") e.failures.push({ id: d.id, kind: d.kind, code: d.errorCode ?? "internal" });
  }
  const hosts: string[] = [];
  for (const r of runs) {
    if (r.job === "reconcile") {
      for (const rep of list<{ app: string; env: string; findings?: string[] }>(r.detail.repairs)) of(rep.app, rep.env).drift.push(...(rep.findings ?? []));
    } else if (r.job === "orphans") {
      for (const o of list<{ host: string; name: string }>(r.detail.removed)) {
        const p = parseProcName(o.name);
        if (p) of(p.app, p.env).drift.push(`orphan program ${o.name} on ${o.host} removed`);
      }
    } else if (r.job === "hosts") {
      for (const c of list<{ host: string; state: string }>(r.detail.changes)) hosts.push(`${c.host} ${c.state}`);
    }
  }
  const sorted = [...envs.values()].sort((a, b) => a.app.localeCompare(b.app) || a.env.localeCompare(b.env));
  return { envs: sorted, hosts };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
/** Lines of drift or failures shown per environment before "and N more". */
export const DIGEST_LIST_MAX = 5;

/** One environment's lines: counts, then the failures and the drift. */
export function envLines(e: EnvDay): string[] {
  const total = Object.values(e.deployments).reduce((a, b) => a + b, 0);
  const how = (["succeeded", "failed", "cancelled", "rejected"] as const).filter((s) => e.deployments[s] > 0).map((s) => `${e.deployments[s]} ${s}`);
  const parts = [`${plural(total, "deployment")}${how.length ? ` (${how.join(", ")})` : ""}`, plural(e.repairs, "repair"), `drift: ${e.drift.length}`];
  const lines = [`${e.app} ${e.env}: ${parts.join(", ")}`];
  const cap = (items: string[]) => (items.length > DIGEST_LIST_MAX ? [...items.slice(0, DIGEST_LIST_MAX), `and ${items.length - DIGEST_LIST_MAX} more`] : items);
  if (e.failures.length) lines.push(`  failed: ${cap(e.failures.map((f) => `${f.id} ${f.kind} (${f.code})`)).join("; ")}`);
  if (e.drift.length) lines.push(`  drift: ${cap(e.drift).join("; ")}`);
  return lines;
}

/**
 * The digest for the day ending at `until`, or undefined when nothing happened (a digest of
 * nothing is not posted). `hosts` lines are for the fleet-wide digest channel only.
 */
export function digestText(until: Date, day: Day): string | undefined {
  if (day.envs.length === 0 && day.hosts.length === 0) return undefined;
  const lines = [`digest of the day to ${until.toISOString().slice(0, 16).replace("T", " ")} UTC:`, ...day.envs.flatMap(envLines)];
  if (day.hosts.length) lines.push(`hosts: ${day.hosts.join(", ")}`);
  return lines.join("\n");
}

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}
