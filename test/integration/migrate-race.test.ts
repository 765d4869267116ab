import postgres from "postgres";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { openDb } from "../../db/client.ts";
import { TEST_PG } from "../support/global-setup.ts";
import { REDIS_URL } from "../support/raptor-harness.ts";
import { runRaptor } from "../support/spawn-raptor.ts";

describe("processes started together on a new database", () => {
  it("four bin/raptor processes started at once on an empty database all come up (migrations under an advisory lock)", async () => {
    const name = `raptor_race_${process.pid}_${inject("runId")}`;
    const admin = postgres(TEST_PG, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    await admin.end();
    const url = new URL(TEST_PG);
    url.pathname = `/${name}`;
    const dir = await mkdtemp(join(tmpdir(), "raptor-race-"));
    await mkdir(join(dir, "pb"));
    await writeFile(join(dir, "pb", "all.yaml"), "squads:\n  here: { hosts: [127.0.0.1], transport: local }\napps:\n  hello:\n    repo: /nonexistent\n    environments:\n      local: { squad: here }\n");
    const env = { DATABASE_URL: url.toString(), REDIS_URL, RAPTOR_PREFIX: `race${process.pid}:`, RAPTOR_PLAYBOOKS: join(dir, "pb"), RAPTOR_DATA: join(dir, "data") };
    const runs = await Promise.all([0, 1, 2, 3].map(() => runRaptor(["say", "apps"], env, { timeoutMs: 90_000 })));
    for (const r of runs) {
      expect(r.err).not.toMatch(/already exists/);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain("hello");
    }
  }, 120_000);

  // The same race on the embedded database (no DATABASE_URL), where the advisory lock serializes
  // nothing: every opener shares PGlite's one session. Three opened at once in one process
  // interleave their migrations query by query; before the fix one of the three failed with
  // `type "approval_status" already exists` in 3 of 5 new directories.
  it("three opened at once on a new embedded database all come up, in each of 5 new directories", async () => {
    const failures: string[] = [];
    for (let i = 0; i < 5; i++) {
      const dir = await mkdtemp(join(tmpdir(), "raptor-migrace-"));
      const opened = await Promise.allSettled([0, 1, 2].map(() => openDb({ dataDir: dir })));
      for (const r of opened) if (r.status === "rejected") failures.push(String((r.reason as { cause?: Error }).cause?.message ?? r.reason));
      for (const r of opened) if (r.status === "fulfilled") await r.value.close();
      await rm(dir, { recursive: true, force: true });
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
