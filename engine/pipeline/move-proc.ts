import { procName } from "../../runners/proc-layout.ts";
import { EngineError } from "../errors.ts";
import type { HostHandle } from "../fleet.ts";
import { runner } from "../fleet.ts";
import { buildOf, specFor } from "../proc-spec.ts";
import type { ProcRow } from "../../db/schema/index.ts";
import { releaseById } from "../../db/queries/releases.ts";
import { insertProc, markProcsRemoved, portsLeasedOn } from "../../db/queries/procs.ts";
import { addBusyPort, busyPortsOf } from "../../db/queries/hosts.ts";
import type { StepContext } from "./step.ts";

/**
 * A new proc died because its port was taken (another program bound it after the ports were
 * checked, or holds it without listening, which no listing shows): remove it, record the port as
 * busy on the host, lease the next free port on the same host and start the proc there. The
 * caller does this once per proc. Returns the new proc's row. Throws `no_ports` when the host has
 * no free port left in the squad's range.
 */
export async function moveToFreePort(ctx: StepContext, h: HostHandle, p: ProcRow): Promise<ProcRow> {
  const { deps, squad } = ctx;
  const taken = p.port!;
  await runner.removeProc(h.host, h.supervisor, { name: p.name, root: squad.root });
  await markProcsRemoved(deps.db, [p.id], "failed");
  await addBusyPort(deps.db, squad.name, p.host, taken);
  const release = (await releaseById(deps.db, p.releaseId))!;
  const build = await buildOf(deps.db, release);
  // The lease is the unique index on live (host, port): a concurrent deployment that took the
  // same port makes the insert fail, and we look again.
  for (let attempt = 0; ; attempt++) {
    const leased = await portsLeasedOn(deps.db, p.host);
    const busy = new Set((await busyPortsOf(deps.db, squad.name, [p.host])).get(p.host)?.ports ?? []);
    let port: number | undefined;
    for (let q = squad.ports.from; q <= squad.ports.to && port === undefined; q++) if (q !== taken && !leased.has(q) && !busy.has(q)) port = q;
    if (port === undefined) throw new EngineError("no_ports", `no free port left in ${squad.ports.from}-${squad.ports.to} on ${p.host} after port ${taken} turned out to be taken`);
    const name = procName({ app: p.app, env: p.env, release: release.number, procType: p.procType, port });
    try {
      const row = await insertProc(deps.db, { app: p.app, env: p.env, procType: p.procType, releaseId: p.releaseId, deploymentId: p.deploymentId, host: p.host, port, name });
      await ctx.progress(`port ${taken} on ${p.host} is taken by another program: ${p.procType} moves to port ${port}`);
      await runner.startProc(h.host, h.supervisor, specFor(row, release, build, squad, ctx.environment));
      return row;
    } catch (err) {
      if (attempt >= 4 || !/unique|duplicate/i.test((err as Error).message)) throw err;
    }
  }
}
