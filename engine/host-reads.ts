import { balancerFor } from "../balancers/registry.ts";
import type { EngineApiDeps, EngineDeps } from "./context.ts";
import { hostHandle, runner } from "./fleet.ts";
import type { JobData } from "./queues.ts";
import { commitRange, resolveRef } from "./builds/git.ts";
import { workingCopyCommit } from "./builds/working-copy.ts";
import { sourceRepo } from "./builds/working-copy.ts";
import type { CommitRange } from "./changes/types.ts";
import { appsOn, checkHost, type HostReport, type SquadReport } from "./host-checks/run.ts";
import type { Squad } from "../playbooks/types.ts";
import { COMMIT_SHA } from "../lib/names.ts";

/** A `commits` read: the ref resolved to a full sha, and the range from the serving commit to it. */
export interface CommitsRead {
  commit: string;
  range: CommitRange;
}

/**
 * Live reads of hosts' supervisord (and balancer pools) for the bot's `status`, `ps`, `logs` and
 * `hosts check`. The bot process holds no host or balancer credentials: each host's read is a
 * short `reads` job a worker answers (`readHost`), and
 * the bot awaits it with a timeout (EngineOptions.liveReadTimeoutMs). A host that fails or does not
 * answer in time is reported, never fatal, and its message names it.
 */

/** supervisord's state name of each program on one host, by program name. */
export type HostStates = Record<string, string>;

/** The worker side: one `reads` job on one host. */
export async function readHost(deps: EngineDeps, data: JobData<"reads">): Promise<HostStates | Record<string, string> | string[] | CommitsRead | HostReport> {
  if (data.kind === "commits") {
    const app = deps.playbook.apps[data.app];
    if (!app) throw new Error(`there is no app ${data.app}`);
    // A working-copy app's commits are the snapshots Raptor makes of its directory. `plan` asks
    // about the directory as it is now (the commit its deploy would ship), so its edits since the
    // last deploy are snapshotted first; the deploy then finds that snapshot and keeps it.
    // A commit sha (a rollback's, a release's) is looked up as it is.
    // Files exactly as the serving commit's (`from`) are that commit: no new commits (workingCopyCommit).
    const now = app.working_copy && !COMMIT_SHA.test(data.to);
    const { repo, commit } = now
      ? await workingCopyCommit(app, deps.dataDir, data.from)
      : { repo: sourceRepo(app, deps.dataDir), commit: (await resolveRef(sourceRepo(app, deps.dataDir), data.to, { dataDir: deps.dataDir })).commit };
    return { commit, range: await commitRange(repo, data.from, commit, { dataDir: deps.dataDir }) };
  }
  if (data.kind === "pool") {
    const config = deps.playbook.balancers[data.balancer];
    if (!config) throw new Error(`there is no balancer ${data.balancer}`);
    return balancerFor(config, deps).getNodes(data.pool);
  }
  const squad = deps.playbook.squads[data.squad];
  if (!squad) throw new Error(`there is no squad ${data.squad}`);
  if (data.kind === "check") return checkHost(deps, squad, data.host, undefined, appsOn(deps.playbook, squad.name));
  const h = hostHandle(deps, squad, data.host);
  if (data.kind === "states") {
    const infos = await h.supervisor.getAllProcessInfo();
    return Object.fromEntries(infos.map((i) => [i.name, i.statename]));
  }
  const out: Record<string, string> = {};
  for (const name of data.names) out[name] = await runner.tailLog(h.supervisor, name, data.bytes);
  return out;
}

/** Each host's program states, or the reason it has none (`unreachable: ...`). */
export async function liveStates(deps: EngineApiDeps, squad: string, hosts: readonly string[]): Promise<Map<string, HostStates | string>> {
  const out = new Map<string, HostStates | string>();
  await Promise.all(
    hosts.map(async (host) => {
      try {
        out.set(host, await deps.queues.read<HostStates>({ kind: "states", squad, host }, deps.options.liveReadTimeoutMs));
      } catch (err) {
        out.set(host, `unreachable: ${(err as Error).message}`);
      }
    }),
  );
  return out;
}

/** The last `bytes` of each proc's log, or the reason it is unavailable, by proc name. */
export async function liveLogs(deps: EngineApiDeps, squad: string, procs: readonly { host: string; name: string }[], bytes: number): Promise<Map<string, { text: string } | { error: string }>> {
  const byHost = new Map<string, string[]>();
  for (const p of procs) byHost.set(p.host, [...(byHost.get(p.host) ?? []), p.name]);
  const out = new Map<string, { text: string } | { error: string }>();
  await Promise.all(
    [...byHost].map(async ([host, names]) => {
      try {
        const texts = await deps.queues.read<Record<string, string>>({ kind: "logs", squad, host, names, bytes }, deps.options.liveReadTimeoutMs);
        for (const n of names) out.set(n, { text: texts[n] ?? "" });
      } catch (err) {
        for (const n of names) out.set(n, { error: (err as Error).message });
      }
    }),
  );
  return out;
}

/** The nodes of a balancer pool, read by a worker (the bot reaches no balancer itself). */
export function livePoolNodes(deps: EngineApiDeps, balancer: string, pool: string): Promise<string[]> {
  return deps.queues.read<string[]>({ kind: "pool", balancer, pool }, deps.options.liveReadTimeoutMs);
}

/**
 * Resolves `to` (a ref or sha) in the app's repo and lists the commits from `from` to it, on a
 * worker (whose git mirror is the engine's repo cache). Git can take longer than a host read (a
 * fetch), so the wait is several live-read timeouts. Throws the worker's error (ref_not_found, ...).
 */
export function liveCommits(deps: EngineApiDeps, app: string, from: string | undefined, to: string): Promise<CommitsRead> {
  return deps.queues.read<CommitsRead>({ kind: "commits", app, to, ...(from ? { from } : {}) }, deps.options.liveReadTimeoutMs * 6);
}

/**
 * `hosts check` runs several remote steps per host (an upload, a probe program, a supervisord
 * reload), one after another, so a host's answer may take several live-read timeouts.
 */
const HOST_CHECK_READS = 12;

/**
 * `hosts check` of every host of `squads`, each host's checks run by a worker (a `check` read), all
 * hosts at once. A host no worker answered for in time (or whose read failed) gets one failed
 * `worker` check naming it, so the other hosts' reports still arrive.
 */
export function liveHostChecks(deps: EngineApiDeps, squads: readonly Squad[]): Promise<SquadReport[]> {
  const timeoutMs = deps.options.liveReadTimeoutMs * HOST_CHECK_READS;
  const one = (squad: string, host: string): Promise<HostReport> =>
    deps.queues.read<HostReport>({ kind: "check", squad, host }, timeoutMs).catch((err: unknown) => ({
      host,
      checks: [{ name: "worker", status: "fail", detail: (err as Error).message, fix: "start a worker (`raptor worker` or `raptor all`) that can reach this host" }],
    }));
  return Promise.all(squads.map(async (s) => ({ squad: s.name, hosts: await Promise.all(s.hosts.map((h) => one(s.name, h))) })));
}
