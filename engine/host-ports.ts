/**
 * Ports taken on a host by something other than Raptor. Before procs are placed, each host's
 * listening sockets are read once (runners/listeners.ts) and the ports of the squad's range held
 * by another program are recorded on the host's row: placement skips them and `hosts` lists them.
 * A port a proc could not bind (a socket bound but not listening is invisible to the scan) is
 * added when that happens.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { hosts as hostsTable, procs } from "../db/schema/index.ts";
import { busyPorts, scanListeners } from "../runners/listeners.ts";
import type { Squad } from "../playbooks/types.ts";
import type { EngineDeps } from "./context.ts";

/**
 * Reads each host's listeners (one remote command per host, hosts in parallel) and records its
 * busy ports. A host that cannot be read is left out of the answer (its own step will say why it
 * cannot be reached) and keeps what was recorded before. Returns busy ports per host.
 */
export async function checkHostPorts(deps: Pick<EngineDeps, "db" | "hosts">, squad: Squad, hostNames: readonly string[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  await Promise.all(
    hostNames.map(async (name) => {
      let listeners;
      try {
        listeners = await scanListeners(deps.hosts.get(squad, name));
      } catch {
        return;
      }
      const leased = await leasedPorts(deps, name);
      const busy = busyPorts(listeners, name, squad.ports, leased);
      out.set(name, busy);
      await deps.db
        .insert(hostsTable)
        .values({ name, squad: squad.name, busyPorts: busy, portsCheckedAt: new Date() })
        .onConflictDoUpdate({ target: hostsTable.name, set: { busyPorts: busy, portsCheckedAt: new Date() } });
    }),
  );
  return out;
}

/** Ports leased to Raptor's live procs on a host. */
export async function leasedPorts(deps: Pick<EngineDeps, "db">, host: string): Promise<Set<number>> {
  const rows = await deps.db.select({ port: procs.port }).from(procs).where(and(eq(procs.host, host), isNull(procs.removedAt)));
  return new Set(rows.flatMap((r) => (r.port ? [r.port] : [])));
}

/** Records that `port` on `host` is held by another program (a proc could not bind it). */
export async function markPortBusy(deps: Pick<EngineDeps, "db">, squad: Squad, host: string, port: number): Promise<void> {
  await deps.db
    .insert(hostsTable)
    .values({ name: host, squad: squad.name, busyPorts: [port], portsCheckedAt: new Date() })
    .onConflictDoUpdate({
      target: hostsTable.name,
      set: { busyPorts: sql`(select array_agg(distinct p order by p) from unnest(array_append(${hostsTable.busyPorts}, ${port}::int)) as p)` },
    });
}

/** The busy ports last recorded for these hosts. */
export async function recordedBusyPorts(deps: Pick<EngineDeps, "db">, hostNames: readonly string[]): Promise<Map<string, { ports: number[]; checkedAt: Date | null }>> {
  if (hostNames.length === 0) return new Map();
  const rows = await deps.db.select().from(hostsTable).where(inArray(hostsTable.name, [...hostNames]));
  return new Map(rows.map((r) => [r.name, { ports: r.busyPorts, checkedAt: r.portsCheckedAt }]));
}
