import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../../db/client.ts";
import { checkSealing } from "../../db/queries/seal-mark.ts";
import { configVars } from "../../db/schema/index.ts";
import { freshDb } from "../support/db.ts";
import { REDIS_URL } from "../support/raptor-harness.ts";
import { runRaptor } from "../support/spawn-raptor.ts";

/** Issue 8 red team, item 1: whether secrets are sealed at rest never depends on which process writes. */
describe("a database sealed with RAPTOR_SECRET_KEY takes only processes with that key", () => {
  const open: DbHandle[] = [];
  afterAll(async () => {
    for (const h of open) await h.close();
  });
  const db = async () => {
    const h = await freshDb();
    open.push(h);
    return h;
  };

  it.each([
    // [steps: key for each start in order (undefined = unset), what each start does]
    ["a plain database stays plain without a key", [[undefined, "ok"], [undefined, "ok"]]],
    ["after a start with the key, a start without it is refused", [["k1-first-key", "ok"], [undefined, /RAPTOR_SECRET_KEY is not set here: set RAPTOR_SECRET_KEY/]]],
    ["after a start with the key, a start with another key is refused", [["k1-first-key", "ok"], ["k2-other-key", /not the key this database/]]],
    ["the same key again is fine", [["k1-first-key", "ok"], ["k1-first-key", "ok"]]],
  ] as const)("%s", async (_name, steps) => {
    const h = await db();
    for (const [key, outcome] of steps) {
      const run = checkSealing(h.db, key ? { RAPTOR_SECRET_KEY: key } : {});
      if (outcome === "ok") await run;
      else await expect(run).rejects.toThrow(outcome);
    }
  });

  it("a database sealed before the seal row existed (a sealed config value) is recognised", async () => {
    const h = await db();
    const saved = process.env.RAPTOR_SECRET_KEY;
    process.env.RAPTOR_SECRET_KEY = "legacy-key-123";
    try {
      await h.db.insert(configVars).values({ app: "web", env: "local", key: "API_TOKEN", value: "sk_legacy_value_1", updatedBy: "U1" });
    } finally {
      if (saved === undefined) delete process.env.RAPTOR_SECRET_KEY;
      else process.env.RAPTOR_SECRET_KEY = saved;
    }
    await expect(checkSealing(h.db, {})).rejects.toThrow(/RAPTOR_SECRET_KEY is not set here/);
    await expect(checkSealing(h.db, { RAPTOR_SECRET_KEY: "another-key-9" })).rejects.toThrow(/not the key/);
    await checkSealing(h.db, { RAPTOR_SECRET_KEY: "legacy-key-123" });
  });

  it("bin/raptor say without the key (or with another) is refused in one line, and writes no secret", async () => {
    const h = await db();
    const dir = await mkdtemp(join(tmpdir(), "raptor-seal-"));
    await mkdir(join(dir, "pb"));
    await writeFile(join(dir, "pb", "all.yaml"), "squads:\n  here: { hosts: [127.0.0.1], transport: local }\napps:\n  hello:\n    repo: /nonexistent\n    environments:\n      local: { squad: here }\n");
    const env = { DATABASE_URL: h.url, REDIS_URL, RAPTOR_PREFIX: `seal${process.pid}:`, RAPTOR_PLAYBOOKS: join(dir, "pb"), RAPTOR_DATA: join(dir, "data") };
    const first = await runRaptor(["say", "apps"], { ...env, RAPTOR_SECRET_KEY: "the-make-run-key" }, { timeoutMs: 90_000 });
    expect(first.code, first.err).toBe(0);
    const secret = "sk_plain_should_not_land_77";
    for (const key of ["", "some-other-key"]) {
      // On stdin: a secret on say's command line is refused before anything opens (terminal-output.test.ts).
      const r = await runRaptor(["say", "-"], { ...env, RAPTOR_SECRET_KEY: key }, { timeoutMs: 90_000, stdin: `config secret hello local API_TOKEN=${secret}\n` });
      expect(r.code).toBe(1);
      const lines = r.err.trim().split("\n").filter((l) => l.startsWith("raptor:") || /^\s+at /.test(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^raptor: .*set RAPTOR_SECRET_KEY/);
    }
    const sql = postgres(h.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select (select count(*) from known_secrets)::int as k, (select count(*) from deployments)::int as d`;
      expect(rows[0]).toEqual({ k: 0, d: 0 });
    } finally {
      await sql.end();
    }
  }, 200_000);
});
