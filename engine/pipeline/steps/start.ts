import { ensureHosts, unplaceableHosts } from "../../../db/queries/hosts.ts";
import { procName } from "../../../runners/proc-layout.ts";
import { EngineError } from "../../errors.ts";
import { avoidFailed, freeWorkerIndexes, place, PlacementError, type FailedPlace, type HostLoad } from "../../placement.ts";
import { checkHostPorts } from "../../host-ports.ts";
import { buildOf } from "../../proc-spec.ts";
import { currentRelease } from "../../../db/queries/releases.ts";
import { listens, ownProcs, targetRelease, targetSizes } from "../swarm.ts";
import { liveProcs, liveProcsOnHosts, placeAndLease, type NewProc } from "../../../db/queries/procs.ts";
import type { ProcRow, ReleaseRow } from "../../../db/schema/index.ts";
import type { Step, StepContext } from "../step.ts";
import { procsOnHosts } from "../../../lib/plural.ts";

/**
 * Places the new procs (rows first: a row is the port lease and the record that lets a crashed
 * deployment clean up), uploads the build once per host, and starts the procs, hosts in parallel.
 */
export const startStep: Step = {
  name: "start",
  async run(ctx) {
    const release = await targetRelease(ctx);
    const build = await buildOf(ctx.deps.db, release);
    const wanted = await procsToAdd(ctx, release, Object.keys(build.procfile ?? {}));
    await placeProcs(ctx, release, wanted);
    const mine = await ownProcs(ctx, release);
    if (mine.length === 0) return { result: { procIds: [] }, summary: "no new procs needed" };
    // Each host's share is a `procs` job, so any worker may do it; hosts are worked in parallel.
    const hostNames = [...new Set(mine.map((p) => p.host))];
    await ctx.deps.queues.hostJobs(ctx.deployment.id, "start", hostNames);
    return { result: { procIds: mine.map((p) => p.id) }, summary: procsOnHosts(mine) };
  },
};

async function procsToAdd(ctx: StepContext, release: ReleaseRow, procTypes: string[]): Promise<Record<string, number>> {
  const sizes = await targetSizes(ctx);
  const missing = Object.entries(sizes).filter(([t, n]) => n > 0 && !procTypes.includes(t)).map(([t]) => t);
  if (missing.length) {
    throw new EngineError("invalid", `the Procfile has no ${missing.map((m) => `\`${m}\``).join(", ")} proc type (it has ${procTypes.join(", ") || "none"}); fix the sizes in the playbook or the Procfile.`);
  }
  const live = await liveProcs(ctx.deps.db, ctx.deployment.app, ctx.deployment.env, release.id);
  // A deploy starts a whole new swarm; scale (or a deploy of what already serves) only tops up
  // the release that is serving.
  // "Serving" is decided now, not from fromReleaseId: that was recorded at request time, and a
  // deployment queued behind the very first one has none though the release it reuses now serves.
  const topUp = ctx.deployment.kind === "scale" || ctx.deployment.kind === "repair";
  const current = topUp ? undefined : await currentRelease(ctx.deps.db, ctx.deployment.app, ctx.deployment.env);
  const serving = topUp || current?.id === release.id;
  const counted = serving ? live : live.filter((p) => p.deploymentId === ctx.deployment.id);
  const add: Record<string, number> = {};
  for (const [type, size] of Object.entries(sizes)) {
    const have = counted.filter((p) => p.procType === type).length;
    if (size > have) add[type] = size - have;
  }
  return add;
}

async function placeProcs(ctx: StepContext, release: ReleaseRow, add: Record<string, number>): Promise<void> {
  const { deps, deployment: d, squad } = ctx;
  if (Object.keys(add).length === 0) return;
  await ensureHosts(deps.db, squad.name, squad.hosts);
  const inactive = await unplaceableHosts(deps.db, squad.name);
  const active = squad.hosts.filter((h) => !inactive.has(h));
  // One look at each host's listening sockets: a port another program holds is never leased.
  const busy = Object.keys(add).some((t) => listens(ctx.environment, t)) ? await checkHostPorts(deps, squad, active) : new Map<string, number[]>();
  const held = [...busy].flatMap(([host, ports]) => ports.map((p) => `${host}:${p}`));
  if (held.length) await ctx.progress(`skipping ${held.length === 1 ? "port" : "ports"} held by other programs: ${held.join(", ")}`);
  // A repair's replacements for procs that failed again where they were (mend's result).
  const failedAt = (ctx.results.mend?.failedAt as FailedPlace[] | undefined) ?? [];
  // Placement reads the hosts' loads and leases ports under one lock (placeAndLease), so
  // deployments placing at once take turns; the unique index on live (host, port) stays the
  // backstop, and a lease it refuses (a row written outside placement) is placed once more.
  for (let attempt = 0; ; attempt++) {
    try {
      await placeAndLease(deps.db, async (tx) => {
        const onHosts = await liveProcsOnHosts(tx, active);
        // On every host, not only the active ones: a name is unique per host, an index per release.
        const sameRelease = await liveProcs(tx, d.app, d.env, release.id);
        const wants = Object.entries(add).map(([procType, count]) => ({ procType, count, ...(listens(ctx.environment, procType) ? { ports: squad.ports } : {}) }));
        const placed = place(avoidFailed(loadsFor(active, onHosts, release.id, busy), failedAt), wants);
        const rows: NewProc[] = [];
        for (const [procType, placements] of Object.entries(placed)) {
          const indexes = freeWorkerIndexes(sameRelease.filter((p) => p.procType === procType).map((p) => p.name), placements.length);
          for (const [i, pl] of placements.entries()) {
            const name = procName({ app: d.app, env: d.env, release: release.number, procType, port: pl.port, index: pl.port === undefined ? indexes[i] : undefined });
            rows.push({ app: d.app, env: d.env, procType, releaseId: release.id, deploymentId: d.id, host: pl.host, port: pl.port, name });
          }
        }
        return rows;
      });
      return;
    } catch (err) {
      if (err instanceof PlacementError) throw new EngineError(err.code, err.message);
      if (attempt >= 4) throw err;
    }
  }
}

/**
 * The swarms being spread are the target release's procs: the old release's procs are about to be
 * torn down, so counting them per swarm would pile the new swarm onto the hosts they left free.
 * They still count in a host's total, like every other proc on it.
 */
export function loadsFor(hostNames: string[], onHosts: ProcRow[], releaseId: string, busy: ReadonlyMap<string, readonly number[]> = new Map()): HostLoad[] {
  return hostNames.map((host) => {
    const here = onHosts.filter((p) => p.host === host);
    const swarmProcs: Record<string, number> = {};
    for (const p of here) if (p.releaseId === releaseId) swarmProcs[p.procType] = (swarmProcs[p.procType] ?? 0) + 1;
    return {
      host,
      swarmProcs,
      totalProcs: here.length,
      usedPorts: new Set([...here.flatMap((p) => (p.port ? [p.port] : [])), ...(busy.get(host) ?? [])]),
    };
  });
}
