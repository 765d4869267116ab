/** One testbed host's supervisord: XML-RPC over HTTP with a password, programs included from `<root>/supervisor`. */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { readTail, spawnDaemon, waitForPort } from "./processes.ts";

const SUPERVISORD = "supervisord";

/** What the supervisord of a host needs: its address, root, config dir (`etc`), and the running daemon. */
export interface SupervisordHost {
  name: string;
  root: string;
  etc: string;
  supervisord?: ChildProcess;
}

/** `include: false` leaves out the `[include]` of `<root>/supervisor/*.conf`, as a supervisord set up by hand may. */
export function supervisordConfig(h: SupervisordHost, port: number, auth: { username: string; password: string }, o: { include?: boolean } = {}): string {
  const asRoot = process.getuid?.() === 0;
  return [
    `[inet_http_server]`,
    `port=${h.name}:${port}`,
    `username=${auth.username}`,
    `password=${auth.password}`,
    ``,
    `[supervisord]`,
    `logfile=${join(h.etc, "supervisord.log")}`,
    `pidfile=${join(h.etc, "supervisord.pid")}`,
    `childlogdir=${join(h.etc, "childlogs")}`,
    `identifier=${h.name}`,
    `nodaemon=true`,
    ...(asRoot ? [`user=root`] : []),
    ``,
    `[rpcinterface:supervisor]`,
    `supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface`,
    ``,
    `[supervisorctl]`,
    `serverurl=http://${h.name}:${port}`,
    `username=${auth.username}`,
    `password=${auth.password}`,
    ``,
    ...(o.include === false ? [] : [`[include]`, `files = ${join(h.root, "supervisor", "*.conf")}`, ``]),
  ].join("\n");
}

export async function startSupervisordOn(h: SupervisordHost, port: number): Promise<void> {
  const conf = join(h.etc, "supervisord.conf");
  h.supervisord = spawnDaemon(SUPERVISORD, ["-n", "-c", conf], join(h.etc, "supervisord.stderr"));
  await waitForPort(h.name, port, h.supervisord, () => readTail(join(h.etc, "supervisord.stderr")));
}
