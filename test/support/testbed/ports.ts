/**
 * Ports for testbeds that may run at once (parallel test files, several engineers): reserved with
 * lock files under /tmp/raptor-testbed-ports (owner pid inside) and checked by binding.
 */
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive, readFileSafe } from "./processes.ts";

const PORT_LOCKS = join(tmpdir(), "raptor-testbed-ports");

/**
 * Finds the first `start + k*step` free on every address and not reserved by a live bed, and takes
 * its lock file (owner pid inside). With no addresses, only the lock counts (a block for procs).
 */
export async function reservePort(start: number, step: number, addresses: string[], held: string[]): Promise<number> {
  await mkdir(PORT_LOCKS, { recursive: true });
  for (let port = start; port < 65_000; port += step) {
    const lock = join(PORT_LOCKS, String(port));
    if (!takeLock(lock)) continue;
    const free = (await Promise.all(addresses.map((a) => canBind(a, port)))).every(Boolean);
    if (free) {
      held.push(lock);
      return port;
    }
    await rm(lock, { force: true });
  }
  throw new Error(`no free port from ${start}`);
}

function takeLock(path: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") return false;
      const owner = Number(readFileSafe(path));
      // An empty file is a lock being written this instant: held.
      if (!owner || isAlive(owner)) return false;
      rmSync(path, { force: true }); // its owner died without releasing it
    }
  }
  return false;
}

export function releasePorts(held: string[]): void {
  for (const lock of held.splice(0)) {
    rmSync(lock, { force: true });
  }
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
