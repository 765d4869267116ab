import { balancerFor } from "../../balancers/registry.ts";
import { withPoolLock } from "../locks.ts";
import { parseProcName } from "../../runners/proc-layout.ts";
import type { EngineDeps } from "../context.ts";
import { hostHandle, runner } from "../fleet.ts";
import { liveProcsOnHosts } from "../../db/queries/procs.ts";
import { downHostsOf, readSupervised } from "./fleet-view.ts";
import { report, squadOrigins } from "./report.ts";
import type { BeatJob } from "./run.ts";
import { plural } from "../../lib/plural.ts";

/**
 * Redis hash: `<host> <program>` -> when the orphans job first saw the program with no live proc
 * (ms). A field stays until the program is gone with its files: removal deletes it last.
 */
export const orphanSeenKey = (prefix: string) => `${prefix}beat:orphans:seen`;
const seenKey = orphanSeenKey;

/**
 * The programs of `host` the orphans job has in hand (seen, waiting out the grace period, or being
 * removed: removeProc takes the program out of supervisord before its files). The prune job leaves
 * their directories to it, so a directory is removed and reported by one job, not by both.
 */
export async function orphansInHand(deps: Pick<EngineDeps, "redis" | "prefix">, host: string): Promise<Set<string>> {
  const fields = await deps.redis.hkeys(seenKey(deps.prefix));
  return new Set(fields.filter((f) => f.startsWith(`${host} `)).map((f) => f.slice(host.length + 1)));
}

export interface Orphan {
  host: string;
  name: string;
}

/**
 * Programs on each host that follow Raptor's naming (runners/proc-layout.ts procName) but belong
 * to no live proc. Pure. A program not named by Raptor is never one: it is not ours to touch.
 */
export function findOrphans(host: string, programs: Iterable<{ name: string; group: string }>, liveNames: ReadonlySet<string>): Orphan[] {
  const out: Orphan[] = [];
  for (const p of programs) {
    if (p.group !== p.name || !parseProcName(p.name)) continue;
    if (!liveNames.has(p.name)) out.push({ host, name: p.name });
  }
  return out;
}

/**
 * The orphans job. A removed proc, a renamed app, environment or proc type, a compensation that
 * could not reach its host: each leaves a program under Raptor's naming with no live proc row.
 * Once such a program has been seen for the `grace` period (so a start in progress is never
 * mistaken for one), its node leaves its environment's pool if it is there (and no live proc has
 * that host:port), it is stopped and removed with its files, and the squad's channels hear which.
 * An orphan holds no port lease (a lease is a live proc row), so its port is free once it is gone.
 */
export const orphansJob: BeatJob = async (deps) => {
  const graceMs = deps.playbook.beat.orphans.grace_ms;
  const now = Date.now();
  const seen = await deps.redis.hgetall(seenKey(deps.prefix));
  const stillSeen = new Set<string>();
  const read = new Set<string>();
  const removed: (Orphan & { error?: string })[] = [];
  let waiting = 0;
  for (const squad of Object.values(deps.playbook.squads)) {
    const down = await downHostsOf(deps, squad);
    const supervised = await readSupervised(deps, squad, squad.hosts.filter((h) => !down.has(h)));
    const live = await liveProcsOnHosts(deps.db, [...supervised.keys()]);
    const removedHere: string[] = [];
    for (const [host, programs] of supervised) {
      read.add(host);
      const liveNames = new Set(live.filter((p) => p.host === host).map((p) => p.name));
      const liveNodes = new Set(live.flatMap((p) => (p.port ? [`${p.host}:${p.port}`] : [])));
      for (const o of findOrphans(host, programs.values(), liveNames)) {
        const field = `${host} ${o.name}`;
        stillSeen.add(field);
        const first = Number(seen[field] ?? NaN);
        if (Number.isNaN(first)) {
          await deps.redis.hset(seenKey(deps.prefix), field, String(now));
          waiting++;
          continue;
        }
        if (now - first < graceMs) {
          waiting++;
          continue;
        }
        try {
          await unrouteOrphan(deps, o, liveNodes);
          await runner.removeProc(hostHandle(deps, squad, host).host, hostHandle(deps, squad, host).supervisor, { name: o.name, root: squad.root });
          await deps.redis.hdel(seenKey(deps.prefix), field);
          removed.push(o);
          removedHere.push(`${o.name} on ${host}`);
        } catch (err) {
          removed.push({ ...o, error: (err as Error).message });
        }
      }
    }
    if (removedHere.length) {
      const n = removedHere.length;
      await report(deps, "orphans", squadOrigins(deps.playbook, squad.name), `removed ${plural(n, "orphan program")} (named like a proc, but no proc of Raptor's): ${removedHere.join(", ")}.`);
    }
  }
  // Forget programs that went away by themselves, on hosts that were read.
  const gone = Object.keys(seen).filter((f) => !stillSeen.has(f) && read.has(f.split(" ")[0]!));
  if (gone.length) await deps.redis.hdel(seenKey(deps.prefix), ...gone);
  const done = removed.filter((r) => !r.error).length;
  return { outcome: done ? "done" : "idle", detail: { removed: removed.filter((r) => !r.error), failed: removed.filter((r) => r.error), waiting } };
};

/** Takes an orphan's node out of its environment's pool, unless a live proc serves that host:port. */
async function unrouteOrphan(deps: EngineDeps, o: Orphan, liveNodes: ReadonlySet<string>): Promise<void> {
  const parsed = parseProcName(o.name);
  if (!parsed?.port) return;
  const node = `${o.host}:${parsed.port}`;
  if (liveNodes.has(node)) return;
  const environment = deps.playbook.apps[parsed.app]?.environments[parsed.env];
  if (!environment?.balancer || !environment.pool) return;
  const pool = environment.pool;
  const balancer = balancerFor(deps.playbook.balancers[environment.balancer]!, deps);
  await withPoolLock(deps, environment.balancer, pool, async () => {
    // The orphan may still be serving: nginx's old workers get the environment's drain to finish with it.
    if ((await balancer.getNodes(pool)).includes(node)) await balancer.deleteNodes(pool, [node], { drainMs: deps.options.drainMs ?? environment.drain_ms });
  });
}
