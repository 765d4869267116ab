/**
 * A real HAProxy for tests: master-worker mode in the foreground (-W), its runtime API on a unix
 * socket (`level admin`), the operator's main config plus Raptor's include dir. A reload is
 * SIGUSR2 to the master (what `systemctl reload haproxy` does on Debian). Retries to other servers
 * are off (`retries 0`, no `option redispatch`), so a request sent to a server that went away fails.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { releasePorts, reservePort } from "./testbed/ports.ts";
import { readTail, spawnDaemon, stopChild, waitForPort } from "./testbed/processes.ts";

export interface TestHaproxy {
  /** The frontend's port on 127.0.0.1 (its default_backend is `frontendPool`). */
  port: number;
  socket: string;
  includeDir: string;
  validate: string[];
  reload: string[];
  dir: string;
  stop(): Promise<void>;
}

export interface TestHaproxyOptions {
  /** The pool the frontend sends to; its file is created empty so the config loads. Default: none. */
  frontendPool?: string;
  /** Directory to run in (created; removed by stop). Default: a fresh one under the OS temp dir. */
  dir?: string;
}

export async function startHaproxy(opts: TestHaproxyOptions = {}): Promise<TestHaproxy> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "raptor-haproxy-")));
  await mkdir(dir, { recursive: true });
  const includeDir = join(dir, "raptor");
  await mkdir(includeDir);
  const held: string[] = [];
  const port = await reservePort(42600, 1, ["127.0.0.1"], held);
  const socket = join(dir, "admin.sock");
  const main = join(dir, "haproxy.cfg");
  const pool = opts.frontendPool;
  await writeFile(
    main,
    [
      "global",
      `  stats socket ${socket} mode 600 level admin expose-fd listeners`,
      "  maxconn 2000",
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 30s",
      "  timeout server 30s",
      "  retries 0",
      "  no option redispatch",
      "frontend fe",
      `  bind 127.0.0.1:${port}`,
      pool ? `  default_backend ${pool}` : "  http-request return status 404",
      "",
    ].join("\n"),
  );
  if (pool) await writeFile(join(includeDir, `${pool}.cfg`), `backend ${pool}\n  balance roundrobin\n`);
  const log = join(dir, "haproxy.log");
  const child: ChildProcess = spawnDaemon("haproxy", ["-W", "-db", "-f", main, "-f", includeDir], log);
  try {
    await waitForPort("127.0.0.1", port, child, () => readTail(log));
  } catch (err) {
    await stopChild(child, "SIGTERM", 2000, true);
    releasePorts(held);
    throw err;
  }
  return {
    port,
    socket,
    includeDir,
    validate: ["haproxy", "-c", "-f", main, "-f", includeDir],
    reload: ["kill", "-USR2", String(child.pid)],
    dir,
    async stop() {
      await stopChild(child, "SIGTERM", 3000, true);
      releasePorts(held);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
