import { markBuildsPruned, succeededBuilds } from "../../db/queries/builds.ts";
import { openDeployments } from "../../db/queries/deployments.ts";
import { liveProcsOnHosts, liveReleaseIds } from "../../db/queries/procs.ts";
import { allReleases, servedHistory } from "../../db/queries/releases.ts";
import type { Squad } from "../../playbooks/types.ts";
import type { Host } from "../../runners/host.ts";
import { buildTarballPath, parseProcName, procPaths } from "../../runners/proc-layout.ts";
import type { EngineDeps } from "../context.ts";
import { hostHandle } from "../fleet.ts";
import { downHostsOf, readSupervised } from "./fleet-view.ts";
import { orphansInHand } from "./orphans.ts";
import { goneProcDirs, planPrune, prunedTarballs, type KeepReason } from "./prune-plan.ts";
import type { BeatJob } from "./run.ts";

/** Lists a directory's entries one a line; a missing directory lists nothing. Constant: the path is $1. */
export const LIST_DIR_SCRIPT = '[ -d "$1" ] || exit 0; ls -1A -- "$1"';

/** What one host's sweep removed. */
interface HostSweep {
  host: string;
  tarballs: number;
  procDirs: string[];
  error?: string;
}

/**
 * The prune job: decides what to keep with planPrune (prune-plan.ts: the newest `keep_builds`
 * builds per app, builds of live procs, rollback targets, and what unfinished deployments need),
 * marks the rest pruned (builds.pruned_at, set before anything is deleted, so a crash leaves a
 * build marked and the next run deletes its files), deletes their tarballs from the build store
 * and from every reachable squad host's `builds/`, and removes host proc directories of procs
 * that are gone. Idempotent: every run sweeps all pruned builds, so a host that was down catches
 * up. Safe beside deployments: nothing they may start is pruned, and a deploy that reuses a
 * pruned build builds it again (engine/host-work.ts), which clears pruned_at. Says nothing in
 * chat: what it did is the run's record (`beat`).
 */
export const pruneJob: BeatJob = async (deps) => {
  const keepBuilds = deps.playbook.beat.prune.keep_builds;
  const builds = await succeededBuilds(deps.db);
  const releases = await allReleases(deps.db);
  const plan = planPrune({
    keepBuilds,
    builds,
    releases: releases.map((r) => ({ ...r, content: r.buildId + JSON.stringify(r.config) })),
    served: await servedHistory(deps.db),
    liveReleaseIds: await liveReleaseIds(deps.db),
    open: (await openDeployments(deps.db)).map((d) => ({ ...d, rollbackTo: d.kind === "rollback" ? d.params.release : undefined })),
  });
  const newlyPruned = await markBuildsPruned(deps.db, plan.prune.map((b) => b.id));
  let storeRemoved = 0;
  // Through the build store, so an S3 store (RAPTOR_BUILD_STORE=s3://...) is pruned too.
  for (const b of plan.prune) if (await deps.builds.remove(b.id)) storeRemoved++;

  const pruned = new Set(plan.prune.map((b) => b.id));
  const sweeps: HostSweep[] = [];
  for (const squad of Object.values(deps.playbook.squads)) sweeps.push(...(await sweepSquad(deps, squad, pruned)));

  const tarballs = sweeps.reduce((n, s) => n + s.tarballs, 0);
  const procDirs = sweeps.flatMap((s) => s.procDirs.map((d) => `${d} on ${s.host}`));
  const kept: Partial<Record<KeepReason, number>> = {};
  for (const why of plan.keep.values()) kept[why] = (kept[why] ?? 0) + 1;
  const acted = newlyPruned.length + storeRemoved + tarballs + procDirs.length > 0;
  return {
    outcome: acted ? "done" : "idle",
    detail: {
      keepBuilds,
      kept,
      pruned: newlyPruned,
      storeRemoved,
      hostTarballsRemoved: tarballs,
      procDirsRemoved: procDirs,
      failed: sweeps.filter((s) => s.error).map((s) => `${s.host}: ${s.error}`),
    },
  };
};

/** Sweeps every host of a squad that is not down; a host that fails is recorded, the others go on. */
async function sweepSquad(deps: EngineDeps, squad: Squad, pruned: ReadonlySet<string>): Promise<HostSweep[]> {
  const down = await downHostsOf(deps, squad);
  return Promise.all(squad.hosts.filter((h) => !down.has(h)).map((name) => sweepHost(deps, squad, name, pruned)));
}

/**
 * One host: pruned builds' tarballs, then proc directories of gone procs. The directory is listed
 * before supervisord and the proc rows are read, so a proc placed meanwhile is seen as live; the
 * orphans job's programs in hand are read after supervisord (see orphansInHand), so one it is
 * removing right now is left to it. Both jobs run on the same ticks by default.
 */
async function sweepHost(deps: EngineDeps, squad: Squad, name: string, pruned: ReadonlySet<string>): Promise<HostSweep> {
  const h = hostHandle(deps, squad, name);
  const out: HostSweep = { host: name, tarballs: 0, procDirs: [] };
  try {
    const ids = prunedTarballs(await listDir(h.host, `${h.root}/builds`), pruned);
    if (ids.length) await mustRun(h.host, ["rm", "-f", "--", ...ids.map((id) => buildTarballPath(h.root, id))]);
    out.tarballs = ids.length;
    const listing = await listDir(h.host, `${h.root}/procs`);
    // Without supervisord's list a dir cannot be told from an orphan's: leave them this time.
    const programs = (await readSupervised(deps, squad, [name])).get(name);
    if (!programs) return out;
    const liveNames = new Set((await liveProcsOnHosts(deps.db, [name])).map((p) => p.name));
    // Read after supervisord: an orphan whose program was just taken out, its files not yet, is
    // the orphans job's to remove and report (it forgets the program only once its files are gone).
    const inHand = await orphansInHand(deps, name);
    const gone = goneProcDirs(listing, (n) => parseProcName(n) !== undefined, liveNames, new Set([...programs.keys(), ...inHand]));
    // Listed again: a directory another remover (the orphans job, a teardown) finished with since
    // the first listing is not this run's to report.
    const still = gone.length ? new Set(await listDir(h.host, `${h.root}/procs`)) : new Set<string>();
    for (const dir of gone.filter((d) => still.has(d))) {
      const p = procPaths(h.root, dir);
      await mustRun(h.host, ["rm", "-rf", "--", p.dir, p.supervisorConf, p.stdoutLog, `${p.stdoutLog}.1`, `${p.stdoutLog}.2`]);
      out.procDirs.push(dir);
    }
  } catch (err) {
    out.error = (err as Error).message;
  }
  return out;
}

async function listDir(host: Host, dir: string): Promise<string[]> {
  const r = await mustRun(host, ["sh", "-c", LIST_DIR_SCRIPT, "sh", dir]);
  return r.split("\n").filter((l) => l !== "");
}

async function mustRun(host: Host, argv: string[]): Promise<string> {
  const r = await host.exec(argv, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${argv[0]} exited ${r.code} on ${host.name}: ${r.stderr.trim().slice(-300)}`);
  return r.stdout;
}
