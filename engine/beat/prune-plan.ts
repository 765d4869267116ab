/**
 * Which builds the prune job keeps. Pure: prune.ts reads the rows, this decides, prune.ts deletes.
 */

/** A succeeded build of an app (pruned or not). `createdAt` orders "the last N builds". */
export interface PruneBuild {
  id: string;
  app: string;
  commit: string;
  createdAt: Date;
}

/** A release: an environment's numbered build + config. */
export interface PruneRelease {
  id: string;
  app: string;
  env: string;
  number: number;
  buildId: string;
  /** Build id + config, so two releases that run the same thing compare equal (rollback skips those). */
  content: string;
}

/** A succeeded deployment that left `releaseId` serving its environment, and when. */
export interface PruneServed {
  app: string;
  env: string;
  releaseId: string;
  finishedAt: Date;
}

/** A deployment not ended yet (queued, awaiting approval, running): what it may still need. */
export interface PruneOpen {
  app: string;
  env: string;
  commit: string | null;
  buildId: string | null;
  fromReleaseId: string | null;
  toReleaseId: string | null;
  /** A rollback's `v<N>`. */
  rollbackTo?: number;
}

export interface PruneInput {
  keepBuilds: number;
  builds: readonly PruneBuild[];
  releases: readonly PruneRelease[];
  served: readonly PruneServed[];
  /** Release ids that live procs (not removed) run. */
  liveReleaseIds: ReadonlySet<string>;
  open: readonly PruneOpen[];
}

/** Why a build is kept (the first reason found), for the run's record and the tests. */
export type KeepReason = "newest" | "live" | "rollback" | "in_flight";

export interface PrunePlan {
  keep: Map<string, KeepReason>;
  /** Builds to delete, oldest first. */
  prune: PruneBuild[];
}

/**
 * What the prune job keeps, per app (every other succeeded build is pruned):
 *  1. `newest`: the app's `keepBuilds` newest builds (by when they were built).
 *  2. `live`: the build of every release a live proc runs (any environment, serving or not yet
 *     torn down).
 *  3. `rollback`: every build a `rollback` could start. Per environment, a rollback target is
 *     (a) every release among the environment's last `keepBuilds` releases (by number) that served
 *     (a succeeded deployment left it serving) — `rollback <app> <env> vN` to any of those works;
 *     and (b) the release a bare `rollback <app> <env>` picks (the newest served release before
 *     the current one with another build or config, engine/pipeline/steps/release.ts), however old.
 *     Releases that never served, and served ones older than the last `keepBuilds`, may lose their
 *     build: `rollback` to them then says the build was pruned and to deploy the commit again.
 *  4. `in_flight`: whatever a deployment not yet ended may still start: its build, its commit's
 *     builds (a deploy whose build step has not recorded the build yet), its from/to releases, and
 *     a queued rollback's target.
 */
export function planPrune(input: PruneInput): PrunePlan {
  const keep = new Map<string, KeepReason>();
  const mark = (buildId: string | null | undefined, why: KeepReason) => {
    if (buildId && !keep.has(buildId)) keep.set(buildId, why);
  };
  const releaseById = new Map(input.releases.map((r) => [r.id, r]));
  const envKey = (app: string, env: string) => `${app}\u0000${env}`;

  const byApp = groupBy(input.builds, (b) => b.app);
  for (const list of byApp.values()) {
    const newest = [...list].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : 1));
    for (const b of newest.slice(0, input.keepBuilds)) mark(b.id, "newest");
  }

  for (const id of input.liveReleaseIds) mark(releaseById.get(id)?.buildId, "live");

  const servedIds = new Set(input.served.map((s) => s.releaseId));
  for (const [, rels] of groupBy(input.releases, (r) => envKey(r.app, r.env))) {
    const recent = [...rels].sort((a, b) => b.number - a.number).slice(0, input.keepBuilds);
    for (const r of recent) if (servedIds.has(r.id)) mark(r.buildId, "rollback");
  }
  for (const [, served] of groupBy(input.served, (s) => envKey(s.app, s.env))) {
    const target = defaultRollbackTarget(served, releaseById);
    mark(target?.buildId, "rollback");
  }

  for (const d of input.open) {
    mark(d.buildId, "in_flight");
    mark(d.fromReleaseId ? releaseById.get(d.fromReleaseId)?.buildId : undefined, "in_flight");
    mark(d.toReleaseId ? releaseById.get(d.toReleaseId)?.buildId : undefined, "in_flight");
    if (d.commit) for (const b of input.builds) if (b.app === d.app && b.commit === d.commit) mark(b.id, "in_flight");
    if (d.rollbackTo !== undefined) {
      const r = input.releases.find((x) => x.app === d.app && x.env === d.env && x.number === d.rollbackTo);
      mark(r?.buildId, "in_flight");
    }
  }

  const prune = input.builds.filter((b) => !keep.has(b.id)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return { keep, prune };
}

/**
 * The release a bare `rollback` picks, from one environment's served history: the newest served
 * release, other than the current one, whose content differs from the current one's. Mirrors
 * rollbackTarget in engine/pipeline/steps/release.ts, which reads the same history.
 */
export function defaultRollbackTarget(served: readonly PruneServed[], releases: ReadonlyMap<string, PruneRelease>): PruneRelease | undefined {
  const history = [...served].sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime()).map((s) => releases.get(s.releaseId));
  const current = history[0];
  return history.find((r) => r && r.id !== current?.id && r.content !== current?.content);
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) out.set(key(it), [...(out.get(key(it)) ?? []), it]);
  return out;
}

/** `<build id>.tar.gz` as uploadBuild names a build on a host (runners/proc-layout.ts). */
const TARBALL = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\.tar\.gz$/;

/**
 * The build ids whose tarballs a host's `builds/` listing holds and that were pruned. Files not
 * named like a build, and builds this database does not know, are left alone.
 */
export function prunedTarballs(listing: readonly string[], pruned: ReadonlySet<string>): string[] {
  return listing.flatMap((name) => {
    const id = TARBALL.exec(name)?.[1];
    return id && pruned.has(id) ? [id] : [];
  });
}

/**
 * Proc directories of a host's `procs/` listing that belong to no proc any more: named by Raptor
 * (`isProcName`), with no live proc of that name on the host, and not a program supervisord still
 * has (that one is the orphans job's, after its grace period).
 */
export function goneProcDirs(listing: readonly string[], isProcName: (name: string) => boolean, liveNames: ReadonlySet<string>, supervised: ReadonlySet<string>): string[] {
  return listing.filter((name) => isProcName(name) && !liveNames.has(name) && !supervised.has(name));
}
