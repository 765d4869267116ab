/**
 * One embedded database, several processes. The PGlite directory is opened by exactly one
 * process, its owner, which serves it to the others over a unix socket (wire-server.ts); every
 * process, the owner included, talks to it with postgres.js through that socket.
 *
 * A socket is the lock. On Linux it is an abstract socket named after the directory's real
 * path: binding it is atomic, only one process can hold it, and the kernel frees it when the
 * owner exits, even on SIGKILL, so a crashed owner never leaves a stale lock. The lock serves
 * nothing: abstract sockets have no file permissions (any process on the machine may connect,
 * and /proc/net/unix lists their names), so the database itself is served on `<dir>.sock`, a
 * socket file in RAPTOR_DATA (0700, lib/private-data.ts) that only Raptor's user can open
 * (issue 8: the demo's procs run on the same machine). Only the lock's holder replaces that
 * file. Elsewhere `<dir>.sock` is both the lock and the database's socket, removed when nothing
 * answers on it.
 *
 * Ownership moves: a process that is not the owner keeps a connection to the socket, and when
 * the owner goes away (a `raptor say` that started first, then ended), it tries to become the
 * owner itself. postgres.js reconnects to the same socket on the next query.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { PgliteWireServer } from "./wire-server.ts";
import type { Logger } from "../../lib/logger.ts";

/** Where the owner of `dir` serves it: `<dir>.sock`, a socket file beside the directory (in RAPTOR_DATA). */
export function socketPathFor(dir: string): string {
  const path = `${realpathSync(dir)}.sock`;
  // sun_path holds 107 bytes; node would cut a longer path silently.
  if (Buffer.byteLength(path) > 107) throw new Error(`the embedded database's socket ${path} is longer than a unix socket path may be (107 bytes): use a shorter RAPTOR_DATA, or DATABASE_URL`);
  return path;
}

/** The lock of `dir`'s ownership: an abstract socket on Linux (a leading NUL; serves nothing), else the database's own socket. */
export function lockPathFor(dir: string): string {
  if (process.platform === "linux") return `\0raptor-pglite-${createHash("sha1").update(realpathSync(dir)).digest("hex").slice(0, 20)}`;
  return socketPathFor(dir);
}

/** How a socket path reads in a message: abstract ones with a leading `@`, as `ss -x` shows them. */
export function printable(path: string): string {
  return path.startsWith("\0") ? `@${path.slice(1)}` : path;
}

export interface EmbeddedServer {
  /** The socket path to give postgres.js (`path`). */
  path: string;
  /** Whether this process owns (opened) the PGlite directory right now. */
  isOwner(): boolean;
  /** Gives up ownership (closing PGlite cleanly) or stops watching the owner. */
  close(): Promise<void>;
}

/**
 * Becomes the owner of `dir` (opens PGlite there and serves it), or finds the process that is,
 * and watches it to take over when it leaves. Resolves once the socket answers.
 */
export async function serveOrJoin(dir: string, log?: Pick<Logger, "info" | "warn">): Promise<EmbeddedServer> {
  mkdirSync(dir, { recursive: true });
  const path = socketPathFor(dir);
  const lockPath = lockPathFor(dir);
  const separateLock = lockPath !== path;
  const record = join(dirname(realpathSync(dir)), "pglite.owner");
  let owned: { server: PgliteWireServer; close(): Promise<void> } | undefined;
  let watcher: ReturnType<typeof connect> | undefined;
  let closed = false;

  const tryOwn = async (): Promise<boolean> => {
    const server = new PgliteWireServer(log);
    let lock: LockServer | undefined;
    try {
      if (separateLock) {
        lock = await holdLock(lockPath);
        // Ours now: a file left by an owner that crashed is stale; nobody else replaces it.
        rmSync(path, { force: true });
      }
      await server.listen(path);
    } catch (err) {
      lock?.close();
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
      return false;
    }
    // The socket is ours: only now open the directory.
    const { PGlite } = await import("@electric-sql/pglite");
    const db = await PGlite.create(dir);
    server.attach(db);
    owned = {
      server,
      close: async () => {
        // The record goes first: once the socket is released a new owner may write its own.
        rmSync(record, { force: true });
        await server.close(async () => {
          await db.close();
          rmSync(path, { force: true });
        });
        // Last: the next owner may open the directory once the lock is free.
        lock?.close();
      },
    };
    // Written whole (temp file, then rename): a reader never sees half a record.
    writeFileSync(`${record}.${process.pid}`, `${JSON.stringify({ pid: process.pid, socket: printable(path), since: new Date().toISOString() })}\n`);
    renameSync(`${record}.${process.pid}`, record);
    log?.info({ dir, socket: printable(path) }, "embedded database: this process owns it and serves it to the others");
    return true;
  };

  const answers = () =>
    new Promise<boolean>((resolve) => {
      const s = connect(path);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });

  /** Keeps a connection to the owner (its lock); when it closes, tries to take over. */
  const watch = () => {
    const s = connect(lockPath);
    watcher = s;
    s.on("error", () => {});
    // Reading (and dropping the owner's goodbye) is what notices the owner's end: a paused socket never sees it.
    s.resume();
    s.once("close", () => {
      if (closed || watcher !== s) return;
      void elect().catch((err) => log?.warn({ err: (err as Error).message }, "embedded database: could not take over"));
    });
  };

  const elect = async (): Promise<void> => {
    for (let attempt = 0; !closed; attempt++) {
      if (await tryOwn()) return;
      if (await answers()) return watch();
      // A socket file nobody answers on is left over from a crash (with a separate lock, its holder replaces it).
      if (!separateLock && existsSync(path)) unlinkSync(path);
      if (attempt > 50) throw new Error(`the embedded database in ${dir} is held by a process that does not answer on ${printable(path)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  await elect();
  return {
    path,
    isOwner: () => owned !== undefined,
    async close() {
      closed = true;
      watcher?.destroy();
      await owned?.close();
      owned = undefined;
    },
  };
}

/** The ownership lock when it is not the database's socket: accepts and holds connections (watchers notice its end), serves nothing. */
interface LockServer {
  close(): void;
}

/** Binds the abstract lock socket; rejects with EADDRINUSE while another process holds it. */
function holdLock(lockPath: string): Promise<LockServer> {
  const held = new Set<Socket>();
  const server: Server = createServer((s) => {
    held.add(s);
    s.on("error", () => {});
    s.on("close", () => held.delete(s));
    // Nothing is served here: what a client sends is read and dropped.
    s.resume();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(lockPath, () => {
      server.off("error", reject);
      resolve({
        close() {
          server.close();
          for (const s of held) s.destroy();
        },
      });
    });
  });
}
