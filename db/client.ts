import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { HandoverSocket } from "./embedded/handover-socket.ts";
import { serveOrJoin } from "./embedded/owner.ts";
import * as schema from "./schema/index.ts";
import type { Logger } from "../lib/logger.ts";

export type Schema = typeof schema;
/** One handle whichever database is underneath (a Postgres server, or the embedded PGlite served over a socket). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface DbHandle {
  db: Db;
  driver: "postgres" | "pglite";
  /** For the embedded database: whether this process owns the directory now, and the socket it is served on. */
  embedded?: { owner(): boolean; socket: string };
  close(): Promise<void>;
}


/** pg_advisory_lock key that serializes Raptor's migrations across processes (any constant; "raptor" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x72617074_6f72;

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), "migrations");

/**
 * Opens the database and applies the committed migrations. A failed migration throws, and
 * start-up stops there: Raptor never runs against a schema it does not know.
 * With `url` (DATABASE_URL) it uses postgres.js; without, embedded PGlite under `dataDir`, opened
 * by one process only and served to the others over a unix socket (db/embedded/owner.ts): this
 * process either becomes its owner or connects to the one that is. Either way the queries go
 * through postgres.js, so every process sees the same rows.
 */
export async function openDb(opts: { url?: string; dataDir?: string; migrate?: boolean; logger?: Pick<Logger, "info" | "warn"> } = {}): Promise<DbHandle> {
  const migrate = opts.migrate ?? true;
  const { default: postgres } = await import("postgres");
  if (opts.url) {
    const client = postgres(opts.url, { max: 10, onnotice: () => {} });
    return finishOpen(client, migrate, "postgres", () => client.end({ timeout: 5 }));
  }
  const dir = resolve(opts.dataDir ?? ".raptor/pglite");
  mkdirSync(dir, { recursive: true });
  const served = await serveOrJoin(dir, opts.logger);
  // postgres.js takes a `socket` factory (its README, "Custom socket"); its types omit it.
  const options = {
    // Through the owner's socket, whoever owns it now: a query the owner did not answer before
    // handing over is sent to the next one (handover-socket.ts), so no process loses one.
    socket: () => new HandoverSocket({ path: served.path }),
    username: "postgres",
    database: "postgres",
    // The owner's server names the client in its log lines (a dropped idle transaction).
    connection: { application_name: `raptor pid ${process.pid}` },
    max: 4,
    // One shared backend session: no named prepared statements (their names would collide).
    prepare: false,
    // Seconds. A new owner opening PGlite on a loaded machine can take tens of seconds.
    connect_timeout: 120,
    onnotice: () => {},
  };
  const client = postgres(options);
  const handle = await finishOpen(client, migrate, "pglite", async () => {
    await client.end({ timeout: 5 });
    await served.close();
  }).catch(async (err) => {
    await served.close();
    throw err;
  });
  return { ...handle, embedded: { owner: served.isOwner, socket: served.path } };
}

type PgClient = import("postgres").Sql<{}>;

async function finishOpen(client: PgClient, migrate: boolean, driver: DbHandle["driver"], close: () => Promise<void>): Promise<DbHandle> {
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const db = drizzle(client, { schema });
  if (migrate) {
    const { migrate: run } = await import("drizzle-orm/postgres-js/migrator");
    // Processes started together on a new database would each run the migrations and trip on
    // each other's CREATE TYPE; the advisory lock (held on one reserved connection) lets one
    // migrate while the others wait, then find nothing left to do.
    //
    // On the embedded database that lock serializes nothing: every process shares PGlite's one
    // backend session, where an advisory lock is re-entrant, so processes opening a new directory
    // together each read "nothing applied" and the later one failed with `type "approval_status"
    // already exists` (issue 9, items 1 and 2). But drizzle applies what is pending in one
    // transaction, and the wire server gives a transaction to one client at a time: the loser's
    // failed whole, after the winner's committed. So it runs the migrations once more, which
    // now finds nothing left to do; a migration that is really broken fails again and is thrown.
    const migrateUnderLock = async () => {
      const lockConn = await client.reserve();
      try {
        await lockConn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await run(db, { migrationsFolder });
      } finally {
        await lockConn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
        lockConn.release();
      }
    };
    try {
      await migrateUnderLock().catch((err) => {
        if (driver !== "pglite") throw err;
        return migrateUnderLock();
      });
    } catch (err) {
      await close();
      throw err;
    }
  }
  return { db: db as unknown as Db, driver, close };
}
