import type { Host } from "../runners/host.ts";
import { expandRoot } from "../runners/proc-layout.ts";
import { ProcessRunner } from "../runners/process-runner.ts";
import { createSupervisor, supervisorUrl } from "../runners/supervisor/xmlrpc-client.ts";
import type { Supervisor } from "../runners/supervisor/types.ts";
import type { Squad } from "../playbooks/types.ts";
import type { EngineDeps } from "./context.ts";

/** The handles to work one host of a squad: its transport, its supervisord, its root. */
export interface HostHandle {
  name: string;
  host: Host;
  supervisor: Supervisor;
  /** The squad root with {host} expanded. */
  root: string;
}

export const runner = new ProcessRunner();

export function hostHandle(deps: Pick<EngineDeps, "hosts">, squad: Squad, hostName: string): HostHandle {
  return {
    name: hostName,
    host: deps.hosts.get(squad, hostName),
    supervisor: createSupervisor({
      url: supervisorUrl(squad.supervisor.url, hostName),
      username: squad.supervisor.username,
      password: squad.supervisor.password,
      timeoutMs: 15_000,
      limiter: deps.hosts.supervisorLimiter(hostName),
    }),
    root: expandRoot(squad.root, hostName),
  };
}

/** Runs `fn` for every key in parallel, one promise per host: hosts are worked in parallel. */
export async function forEachHost<T, R>(items: readonly T[], hostOf: (t: T) => string, fn: (host: string, items: T[]) => Promise<R>): Promise<R[]> {
  const groups = new Map<string, T[]>();
  for (const it of items) groups.set(hostOf(it), [...(groups.get(hostOf(it)) ?? []), it]);
  const settled = await Promise.allSettled([...groups.entries()].map(([h, list]) => fn(h, list)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}
