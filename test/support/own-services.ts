/**
 * A Redis and a Postgres server of a test file's own, on loopback ports of their own, so the test
 * can restart them mid-deployment without touching the servers every other file shares.
 *  - Redis runs as a production BullMQ deployment should (BullMQ's docs: "Going to production"):
 *    append-only file on and `maxmemory-policy noeviction`, so a restart keeps the queues.
 *  - Postgres is a fresh cluster (initdb) run by the `postgres` OS user, fsync off (a test).
 */
import { execFile, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { spawnDaemon, stopChild, waitForPort } from "./testbed/processes.ts";
import { releasePorts, reservePort } from "./testbed/ports.ts";

const exec = promisify(execFile);

export interface OwnService {
  url: string;
  /** Stops the server the way `systemctl restart` does (graceful), then starts it again on the same port. */
  restart(opts?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** redis-server with AOF on a port of its own (from 16400). */
export async function startOwnRedis(): Promise<OwnService> {
  const held: string[] = [];
  const port = await reservePort(16400, 1, ["127.0.0.1"], held);
  const dir = await mkdtemp("/tmp/raptor-redis-");
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawnDaemon(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction"],
      join(dir, "stderr.log"),
    );
    await waitForPort("127.0.0.1", port, child, () => `see ${dir}/stderr.log`);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    async restart(o = {}) {
      // SIGTERM: Redis finishes the AOF and exits (what a service manager's restart does).
      await stopChild(child, "SIGTERM", 10_000);
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      await start();
    },
    async stop() {
      await stopChild(child, "SIGKILL", 5_000);
      releasePorts(held);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function pgBin(name: string): string {
  const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
  return join("/usr/lib/postgresql", versions[0]!, "bin", name);
}

/** A Postgres cluster of its own (from port 16500), database `raptor`, trust auth for user postgres. */
export async function startOwnPostgres(): Promise<OwnService> {
  const held: string[] = [];
  const port = await reservePort(16500, 1, ["127.0.0.1"], held);
  const dir = await mkdtemp("/tmp/raptor-pg-");
  await chmod(dir, 0o700);
  const { stdout } = await exec("id", ["-u", "postgres"]);
  const { stdout: gid } = await exec("id", ["-g", "postgres"]);
  await chown(dir, Number(stdout), Number(gid));
  const data = join(dir, "data");
  const asPostgres = (cmd: string, args: string[]) => exec("runuser", ["-u", "postgres", "--", cmd, ...args], { cwd: "/tmp" });
  await asPostgres(pgBin("initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const ctl = (args: string[]) => asPostgres(pgBin("pg_ctl"), ["-D", data, "-w", "-t", "60", "-l", join(dir, "log"), ...args]);
  await ctl(["-o", opts, "start"]);
  await asPostgres(pgBin("createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "raptor"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/raptor`,
    async restart(o = {}) {
      // -m fast: what a service manager's restart does (open sessions are ended, nothing is lost).
      await ctl(["-m", "fast", "stop"]);
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      await ctl(["-o", opts, "start"]);
    },
    async stop() {
      await ctl(["-m", "immediate", "stop"]).catch(() => {});
      releasePorts(held);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
