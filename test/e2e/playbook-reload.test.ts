import { rm, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { freshDb } from "../support/db.ts";
import { REDIS_URL } from "../support/raptor-harness.ts";
import { runRaptor, startRaptor, type Daemon } from "../support/spawn-raptor.ts";
import { localSquadLines } from "../support/playbook-yaml.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/**
 * Playbook changes reach running processes (issue 9, item 4): a `raptor all` started before an
 * app was added deploys it; a broken edit keeps the last good playbook and the next answer says so.
 */
describe("playbook edits reach a running raptor all", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let env: Record<string, string>;
  let pb: string;
  let all: Daemon | undefined;

  const appYaml = (name: string) =>
    ["apps:", `  ${name}:`, `    repo: ${JSON.stringify(repo.path)}`, "    environments:", `      local: { squad: here, size: { web: 1 }, balancer: lb, pool: ${name}_local, uptest_timeout: 30s }`, ""].join("\n");

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    const db = await freshDb();
    await db.close();
    const dir = await mkdtemp(join(tmpdir(), "raptor-reload-"));
    const host = bed.hosts[0]!;
    pb = join(dir, "pb");
    await mkdir(pb);
    await writeFile(
      join(pb, "squads.yaml"),
      [
        ...localSquadLines(bed, host),
        "",
      ].join("\n"),
    );
    await writeFile(join(pb, "hello.yaml"), appYaml("hello"));
    // RAPTOR_SAY_WORKER=0: `say` only asks; the deploy is run by raptor all's worker.
    env = { DATABASE_URL: db.url, REDIS_URL, RAPTOR_PREFIX: `reload${process.pid}:`, RAPTOR_PLAYBOOKS: pb, RAPTOR_DATA: join(dir, "data"), RAPTOR_DRAIN_MS: "0", RAPTOR_SAY_WORKER: "0" };
  }, 120_000);
  afterAll(async () => {
    await all?.stop();
    await bed?.stop();
  });

  /** Types a line into raptor all's terminal chat; resolves with what it printed up to `until`. */
  async function type(line: string, until: RegExp): Promise<string> {
    const from = all!.output().length;
    all!.child.stdin!.write(`${line}\n`);
    for (let i = 0; ; i++) {
      const out = all!.output().slice(from);
      if (until.test(out)) return out;
      if (all!.child.exitCode !== null || i > 1200) throw new Error(`no ${until} after "${line}":\n${all!.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("a worker started before an app was added deploys it", async () => {
    all = startRaptor(["all"], env);
    await type("apps", /hello: local/);
    await writeFile(join(pb, "hello2.yaml"), appYaml("hello2"));
    const r = await runRaptor(["say", "deploy hello2 local"], env, { timeoutMs: 300_000 });
    expect(r.out).not.toContain("no longer in the playbook");
    expect(r.code, r.out + r.err).toBe(0);
  }, 400_000);

  // Red team M5: `hosts check` runs on a worker, and the worker's reads queue never reloaded the
  // playbook: a squad added while raptor all ran was "there is no squad later — start a worker".
  it("a squad added while raptor all runs: `hosts check` of it is answered by raptor all's worker", async () => {
    const squad = localSquadLines(bed, bed.hosts[0]!).slice(0, 7).join("\n").replace("  here:", "  later:");
    await writeFile(join(pb, "later.yaml"), `${squad}\n`);
    const r = await runRaptor(["say", "hosts check later"], env, { timeoutMs: 120_000 });
    expect(r.out, r.out + r.err).not.toContain("there is no squad");
    expect(r.out).toMatch(new RegExp(`${bed.hosts[0]!.name.replace(/\./g, "\\.")}: ready`));
    expect(r.code, r.out + r.err).toBe(0);
  }, 180_000);

  it("a broken edit keeps the last good playbook, and the next answer says why", async () => {
    await writeFile(join(pb, "broken.yaml"), "apps:\n  hello3:\n    environments:\n      local: { squad: nowhere }\n");
    const out = await type("status hello2 local", /keeps using the last good one/);
    expect(out).toContain("hello2 local");
    expect(out).toMatch(/broken\.yaml:\d+: .*squad "nowhere"/);
    await rm(join(pb, "broken.yaml"));
    const fixed = await type("apps", /hello2: local/);
    expect(fixed).not.toContain("last good one");
  }, 120_000);
});
