import type { Squad } from "../playbooks/types.ts";
import type { EngineDeps } from "./context.ts";
import { hostHandle, forEachHost, runner } from "./fleet.ts";
import type { ProcRow } from "../db/schema/index.ts";
import { markProcsRemoved } from "../db/queries/procs.ts";

/**
 * Stops and removes procs on their hosts and marks their rows removed. A host that cannot be
 * reached does not stop the others; its procs are reported back so the caller can say so.
 */
export async function removeProcs(deps: EngineDeps, squad: Squad, list: readonly ProcRow[]): Promise<{ removed: number; failed: { proc: ProcRow; error: string }[] }> {
  const failed: { proc: ProcRow; error: string }[] = [];
  await forEachHost(list, (p) => p.host, async (hostName, onHost) => {
    const h = hostHandle(deps, squad, hostName);
    try {
      // All of the host's procs together: stops sent at once, one rm (issue 14, fault 2).
      await runner.removeProcs(h.host, h.supervisor, { names: onHost.map((p) => p.name), root: squad.root });
    } catch {
      // Something failed: one at a time, so each proc's own error is known and the rest still go.
      for (const p of onHost) {
        try {
          await runner.removeProc(h.host, h.supervisor, { name: p.name, root: squad.root });
        } catch (err) {
          failed.push({ proc: p, error: (err as Error).message });
        }
      }
    }
  });
  const failedIds = new Set(failed.map((f) => f.proc.id));
  const done = list.filter((p) => !failedIds.has(p.id)).map((p) => p.id);
  await markProcsRemoved(deps.db, done);
  return { removed: done.length, failed };
}
