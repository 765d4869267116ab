import { balancerFor } from "../../balancers/registry.ts";
import { downHosts } from "../../db/queries/hosts.ts";
import type { Environment, Squad } from "../../playbooks/types.ts";
import type { ProcessInfo } from "../../runners/supervisor/types.ts";
import type { EngineDeps } from "../context.ts";
import { hostHandle } from "../fleet.ts";
import type { ProcRow } from "../../db/schema/index.ts";
import { desiredSizes } from "../pipeline/swarm.ts";
import { liveProcs, nodesEverUsed } from "../../db/queries/procs.ts";
import type { FleetView } from "./diagnose.ts";
import { PORT_OWNERS_SCRIPT, portHolders, type PortHolder } from "./port-owners.ts";

/** How long a host's supervisord may take to list its programs before it counts as unread. */
export const READ_TIMEOUT_MS = 8_000;

/** Runs `p` with a deadline; the error names what did not answer. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Hosts of a squad the hosts job last found down. */
export async function downHostsOf(deps: Pick<EngineDeps, "db">, squad: Squad): Promise<Set<string>> {
  return downHosts(deps.db, squad.name, squad.hosts);
}

/** Every program of each given host's supervisord; hosts that do not answer are left out. */
export async function readSupervised(deps: EngineDeps, squad: Squad, hostNames: readonly string[]): Promise<Map<string, Map<string, ProcessInfo>>> {
  const out = new Map<string, Map<string, ProcessInfo>>();
  await Promise.all(
    hostNames.map(async (name) => {
      try {
        const infos = await withTimeout(hostHandle(deps, squad, name).supervisor.getAllProcessInfo(), READ_TIMEOUT_MS, `supervisord on ${name}`);
        out.set(name, new Map(infos.map((i) => [i.name, i])));
      } catch {
        // Unread: its procs are not judged this time; the hosts job decides whether it is down.
      }
    }),
  );
  return out;
}

/** Reads everything diagnose() needs for one environment whose serving release is `servingReleaseId`. */
export async function readFleetView(deps: EngineDeps, environment: Environment, squad: Squad, servingReleaseId: string): Promise<FleetView<ProcRow>> {
  const live = await liveProcs(deps.db, environment.app, environment.name);
  const downHosts = await downHostsOf(deps, squad);
  const toRead = [...new Set(live.map((p) => p.host))].filter((h) => !downHosts.has(h));
  const infos = await readSupervised(deps, squad, toRead);
  const supervised = new Map([...infos.entries()].map(([h, m]) => [h, new Map([...m.entries()].map(([n, i]) => [n, i.statename]))]));
  const listening = new Set(live.filter((p) => p.port && p.releaseId === servingReleaseId).map((p) => p.host));
  const portHolders = await readPortHolders(deps, squad, new Map([...infos.entries()].filter(([h]) => listening.has(h))));
  let poolNodes: string[] | undefined;
  if (environment.balancer && environment.pool) {
    poolNodes = await balancerFor(deps.playbook.balancers[environment.balancer]!, deps).getNodes(environment.pool);
  }
  return {
    live,
    servingReleaseId,
    sizes: await desiredSizes(deps.db, environment),
    downHosts,
    supervised,
    poolNodes,
    // Every host:port the app+env ever ran: only those are ours to take out of a pool.
    ourNodes: await nodesEverUsed(deps.db, environment.app, environment.name),
    portHolders,
  };
}

/**
 * Who holds each listening port on the given hosts (port-owners.ts), from one remote command per
 * host and the programs supervisord just listed. A host whose command fails is left out (unjudged).
 */
export async function readPortHolders(deps: EngineDeps, squad: Squad, programs: ReadonlyMap<string, ReadonlyMap<string, ProcessInfo>>): Promise<Map<string, Map<number, PortHolder>>> {
  const out = new Map<string, Map<number, PortHolder>>();
  await Promise.all(
    [...programs.entries()].map(async ([name, infos]) => {
      try {
        const r = await hostHandle(deps, squad, name).host.exec(["sh", "-c", PORT_OWNERS_SCRIPT], { timeoutMs: READ_TIMEOUT_MS });
        if (r.code !== 0) return;
        out.set(name, portHolders(r.stdout, name, [...infos.values()].map((i) => ({ name: i.name, pid: i.pid }))));
      } catch {
        // Unread: not judged this time.
      }
    }),
  );
  return out;
}
