/**
 * Ports taken on a host by something other than Raptor. Before procs are placed, each host's
 * listening sockets are read once (runners/listeners.ts) and the ports of the squad's range held
 * by another program are recorded on the host's row: placement skips them and `hosts` lists them.
 * A port a proc could not bind (a socket bound but not listening is invisible to the scan) is
 * added when that happens.
 */
import { recordBusyPorts } from "../db/queries/hosts.ts";
import { portsLeasedOn } from "../db/queries/procs.ts";
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
      const leased = await portsLeasedOn(deps.db, name);
      const busy = busyPorts(listeners, name, squad.ports, leased);
      out.set(name, busy);
      await recordBusyPorts(deps.db, squad.name, name, busy);
    }),
  );
  return out;
}
