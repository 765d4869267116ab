import postgres from "postgres";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { openDb } from "../../db/client.ts";
import { TEST_PG } from "../support/global-setup.ts";
import { REDIS_URL } from "../support/raptor-harness.ts";
import { runRaptor, startRaptor, type Daemon } from "../support/spawn-raptor.ts";

describe("processes started together on a new database", () => {
  /** An empty Postgres database and a playbook directory: the env bin/raptor runs with. */
  async function emptyDatabase(tag: string): Promise<Record<string, string>> {
    const name = `raptor_race${tag}_${process.pid}_${inject("runId")}`;
    const admin = postgres(TEST_PG, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    await admin.end();
    const url = new URL(TEST_PG);
    url.pathname = `/${name}`;
    const dir = await mkdtemp(join(tmpdir(), "raptor-race-"));
    await mkdir(join(dir, "pb"));
    await writeFile(join(dir, "pb", "all.yaml"), "squads:\n  here: { hosts: [127.0.0.1], transport: local }\napps:\n  hello:\n    repo: /nonexistent\n    environments:\n      local: { squad: here }\n");
    return { DATABASE_URL: url.toString(), REDIS_URL, RAPTOR_PREFIX: `race${tag}${process.pid}:`, RAPTOR_PLAYBOOKS: join(dir, "pb"), RAPTOR_DATA: join(dir, "data"), RAPTOR_METRICS_PORT: "off" };
  }

  it("four bin/raptor processes started at once on an empty database all come up (migrations under an advisory lock)", async () => {
    const env = await emptyDatabase("");
    const runs = await Promise.all([0, 1, 2, 3].map(() => runRaptor(["say", "apps"], env, { timeoutMs: 90_000 })));
    for (const r of runs) {
      expect(r.err).not.toMatch(/already exists/);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain("hello");
    }
  }, 120_000);

  // The input: `raptor bot` and `raptor worker` started at the same instant on an empty
  // database; one died with `CREATE TYPE "approval_status" ... already exists`. With a second
  // worker and the beat, four long-running processes: each comes up, and the bot answers.
  it("raptor bot, two raptor workers and raptor beat started at the same instant on an empty database all come up", async () => {
    const env = await emptyDatabase("d");
    const daemons = (["bot", "worker", "worker", "beat"] as const).map((cmd) => ({ cmd, d: startRaptor([cmd], env) }));
    let codes: number[] = [];
    try {
      const ready = { bot: /starting the chat/, worker: /ready: the worker takes jobs/, beat: /ready: the beat keeps its schedule/ };
      await Promise.all(daemons.map(({ cmd, d }) => outputMatches(d, ready[cmd], cmd)));
      const bot = daemons[0]!.d;
      bot.child.stdin!.write("apps\n");
      await outputMatches(bot, /hello: local/, "bot");
    } finally {
      codes = await Promise.all(daemons.map(({ d }) => d.stop()));
    }
    for (const { cmd, d } of daemons) expect(d.output(), cmd).not.toMatch(/already exists/);
    expect(codes, daemons.map(({ cmd, d }) => `raptor ${cmd}:\n${d.output()}`).join("\n")).toEqual([0, 0, 0, 0]);
  }, 180_000);

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

/** Resolves when `d`'s output (stdout and stderr) matches `pattern`; rejects if it exits first. */
function outputMatches(d: Daemon, pattern: RegExp, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pattern.test(d.output())) return false;
      off();
      resolve();
      return true;
    };
    const exited = (code: number | null) => {
      off();
      reject(new Error(`raptor ${name} exited ${code} before ${pattern}:\n${d.output()}`));
    };
    // Listeners added after spawn-raptor's own: by the time these run, output() has the chunk.
    const off = () => {
      d.child.stdout!.off("data", check);
      d.child.stderr!.off("data", check);
      d.child.off("exit", exited);
    };
    d.child.stdout!.on("data", check);
    d.child.stderr!.on("data", check);
    d.child.once("exit", exited);
    check();
  });
}
