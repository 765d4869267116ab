import postgres from "postgres";
import { inject } from "vitest";
import { openDb, type DbHandle } from "../../db/client.ts";
import { TEST_PG } from "./global-setup.ts";

let counter = 0;

/** A database of its own for one test file, cloned from the run's migrated template. */
export async function freshDb(): Promise<DbHandle & { url: string }> {
  const template = inject("pgTemplate");
  const name = `raptor_${process.pid}_${counter++}_${inject("runId")}`;
  const admin = postgres(TEST_PG, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${template}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG);
  url.pathname = `/${name}`;
  const h = await openDb({ url: url.toString(), migrate: false });
  return { ...h, url: url.toString() };
}
