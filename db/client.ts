import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;
/** One handle whichever driver is underneath (postgres.js or PGlite). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface DbHandle {
  db: Db;
  driver: "postgres" | "pglite";
  close(): Promise<void>;
}

/** pg_advisory_lock key that serializes Raptor's migrations across processes (any constant; "raptor" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x72617074_6f72;

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), "migrations");

/**
 * Opens the database and applies the committed migrations. A failed migration throws, and
 * start-up stops there: Raptor never runs against a schema it does not know.
 * With `url` (DATABASE_URL) it uses postgres.js; without, embedded PGlite under `dataDir`.
 */
export async function openDb(opts: { url?: string; dataDir?: string; migrate?: boolean } = {}): Promise<DbHandle> {
  const migrate = opts.migrate ?? true;
  if (opts.url) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const client = postgres(opts.url, { max: 10, onnotice: () => {} });
    const db = drizzle(client, { schema });
    if (migrate) {
      const { migrate: run } = await import("drizzle-orm/postgres-js/migrator");
      // Processes started together on a new database would each run the migrations and trip on
      // each other's CREATE TYPE; the advisory lock (held on one reserved connection) lets one
      // migrate while the others wait, then find nothing left to do.
      try {
        const lockConn = await client.reserve();
        try {
          await lockConn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
          await run(db, { migrationsFolder });
        } finally {
          await lockConn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
          lockConn.release();
        }
      } catch (err) {
        await client.end({ timeout: 5 });
        throw err;
      }
    }
    return { db: db as unknown as Db, driver: "postgres", close: () => client.end({ timeout: 5 }) };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const dir = resolve(opts.dataDir ?? ".raptor/pglite");
  mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  const db = drizzle(client, { schema });
  if (migrate) {
    const { migrate: run } = await import("drizzle-orm/pglite/migrator");
    await run(db, { migrationsFolder });
  }
  return { db: db as unknown as Db, driver: "pglite", close: () => client.close() };
}
