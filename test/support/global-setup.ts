import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { openDb } from "../../db/client.ts";

/** The server the suite runs against; a fresh database per run is made from it. */
export const TEST_PG = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

declare module "vitest" {
  export interface ProvidedContext {
    pgTemplate: string;
    runId: string;
  }
}

/**
 * Once per run: a migrated template database. Each test file clones it (CREATE DATABASE ...
 * TEMPLATE), which takes milliseconds, so files never share rows.
 */
export default async function setup(project: TestProject) {
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const template = `raptor_tmpl_${runId}`;
  const admin = postgres(TEST_PG, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${template}"`);
  const url = new URL(TEST_PG);
  url.pathname = `/${template}`;
  const h = await openDb({ url: url.toString() });
  await h.close();
  project.provide("pgTemplate", template);
  project.provide("runId", runId);
  return async () => {
    const dbs = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${`raptor_%${runId}%`}`;
    for (const { datname } of dbs) {
      await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    }
    await admin.end();
  };
}
