/**
 * The digest's text: a day of deployments, failures, repairs and drift, per environment. Pure;
 * digest.ts reads the day and posts.
 */
import { parseProcName } from "../../runners/proc-layout.ts";
import { finalDeploymentStatuses, type FinalDeploymentStatus } from "../../db/schema/enums.ts";
import type { ErrorCode } from "../../lib/error-codes.ts";

/** A deployment that ended within the day. */
export interface DayDeployment {
  id: string;
  kind: string;
  app: string;
  env: string;
  status: FinalDeploymentStatus;
  errorCode: ErrorCode | null;
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
  failures: { id: string; kind: string; code: ErrorCode }[];
  repairs: number;
  /** What the beat found off, by kind (DRIFT_LABELS): reconcile's findings and orphan programs removed. */
  drift: Record<string, number>;
}

/** How each kind of drift reads in the digest: reconcile's finding kinds (diagnose.ts), and orphans. */
export const DRIFT_LABELS: Record<string, string> = {
  crashed: "crashed",
  lost: "lost with a host",
  missing: "short of the swarm",
  stale: "old release still up",
  unrouted: "out of the pool",
  stray_node: "stray pool node",
  port_held: "port held by another process",
  orphan: "orphan programs removed",
};

export interface Day {
  envs: EnvDay[];
  /** Host state changes the hosts job saw: "127.0.0.4 down". */
  hosts: string[];
}

const zero = () => Object.fromEntries(finalDeploymentStatuses.map((s) => [s, 0])) as Record<FinalDeploymentStatus, number>;

/** Folds a day of deployments and beat runs into per-environment lines, sorted by app and env. */
export function summarizeDay(deployments: readonly DayDeployment[], runs: readonly DayRun[]): Day {
  const envs = new Map<string, EnvDay>();
  const of = (app: string, env: string) => {
    const key = `${app} ${env}`;
    let e = envs.get(key);
    if (!e) envs.set(key, (e = { app, env, deployments: zero(), failures: [], repairs: 0, drift: {} }));
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
      for (const rep of list<{ app: string; env: string; findings?: string[]; kinds?: string[] }>(r.detail.repairs)) {
        const e = of(rep.app, rep.env);
        // Runs recorded before kinds were kept count as "other".
        for (const k of rep.kinds ?? (rep.findings ?? []).map(() => "other")) e.drift[k] = (e.drift[k] ?? 0) + 1;
      }
    } else if (r.job === "orphans") {
      for (const o of list<{ host: string; name: string }>(r.detail.removed)) {
        const p = parseProcName(o.name);
        if (p) {
          const e = of(p.app, p.env);
          e.drift.orphan = (e.drift.orphan ?? 0) + 1;
        }
      }
    } else if (r.job === "hosts") {
      for (const c of list<{ host: string; state: string }>(r.detail.changes)) hosts.push(`${c.host} ${c.state}`);
    }
  }
  const sorted = [...envs.values()].sort((a, b) => a.app.localeCompare(b.app) || a.env.localeCompare(b.env));
  return { envs: sorted, hosts };
}

import { plural } from "../../lib/plural.ts";
/** Failures listed per environment before "and N more". */
export const DIGEST_LIST_MAX = 5;

/** One environment's lines: counts, then the failures and the drift. */
export function envLines(e: EnvDay): string[] {
  const total = Object.values(e.deployments).reduce((a, b) => a + b, 0);
  const how = finalDeploymentStatuses.filter((s) => e.deployments[s] > 0).map((s) => `${e.deployments[s]} ${s}`);
  const drift = Object.entries(e.drift);
  const driftTotal = drift.reduce((n, [, c]) => n + c, 0);
  const parts = [`${plural(total, "deployment")}${how.length ? ` (${how.join(", ")})` : ""}`, plural(e.repairs, "repair"), `drift: ${driftTotal}`];
  const lines = [`${e.app} ${e.env}: ${parts.join(", ")}`];
  const failures = e.failures.map((f) => `${f.id} ${f.kind} (${f.code})`);
  const capped = failures.length > DIGEST_LIST_MAX ? [...failures.slice(0, DIGEST_LIST_MAX), `and ${failures.length - DIGEST_LIST_MAX} more`] : failures;
  if (capped.length) lines.push(`  failed: ${capped.join("; ")}`);
  // In the order of DRIFT_LABELS, so two digests read alike.
  const order = Object.keys(DRIFT_LABELS);
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  if (driftTotal) lines.push(`  drift: ${drift.sort(([a], [b]) => rank(a) - rank(b)).map(([k, n]) => `${DRIFT_LABELS[k] ?? k} ${n}`).join(", ")}`);
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
