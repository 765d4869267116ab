import { spawn } from "node:child_process";
import { mkdtemp, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { freshDb } from "../support/db.ts";
import { REDIS_URL, httpGet } from "../support/raptor-harness.ts";
import { localSquadLines } from "../support/playbook-yaml.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

const RAPTOR = resolve(import.meta.dirname, "../../bin/raptor");

function run(args: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(RAPTOR, args, { env: { ...process.env, ...env, RAPTOR_USER: "U_CLI" }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => done({ code: code ?? -1, out, err }));
    child.stdin.end(stdin ?? "");
  });
}

/** `bin/raptor say` and the terminal chat, as a person runs them, against one testbed host reached locally. */
describe("raptor CLI", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let env: Record<string, string>;
  let closeDb: () => Promise<void>;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v7\n" });
    const db = await freshDb();
    await db.close();
    closeDb = async () => {};
    const dir = await mkdtemp(join(tmpdir(), "raptor-cli-"));
    const host = bed.hosts[0]!;
    await mkdir(join(dir, "pb"));
    await writeFile(
      join(dir, "pb", "all.yaml"),
      [
        ...localSquadLines(bed, host),
        "apps:",
        "  hello:",
        `    repo: ${JSON.stringify(repo.path)}`,
        "    environments:",
        "      local: { squad: here, size: { web: 1 }, balancer: lb, pool: hello_local }",
      ].join("\n"),
    );
    env = { DATABASE_URL: db.url, REDIS_URL, RAPTOR_PREFIX: `cli${process.pid}:`, RAPTOR_PLAYBOOKS: join(dir, "pb"), RAPTOR_DATA: join(dir, "data"), RAPTOR_DRAIN_MS: "0" };
  }, 120_000);
  afterAll(async () => {
    await closeDb?.();
    await bed?.stop();
  });

  it("say help prints the command reference and exits 0", async () => {
    const r = await run(["say", "help"], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain("deploy <app> [to] <env> [<ref>]");
    expect(r.out).toContain("rollback <app> <env> [v<N>]");
  });

  it("say with an unknown app names the known apps and exits 2", async () => {
    const r = await run(["say", "deploy nope prod"], env);
    expect(r.code).toBe(2);
    expect(r.out).toContain('unknown app "nope". Known apps: hello.');
  });

  it("say deploy prints the thread, follows it to the end and exits 0; the proc answers", async () => {
    const r = await run(["say", "deploy hello local"], env);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/✓ resolve .*main → [0-9a-f]{7}/);
    expect(r.out).toContain("is now v1");
    const port = Number(/web:(\d+)/.exec(r.out)?.[1]);
    expect(await httpGet(bed.hosts[0]!.name, port)).toContain("hello from v7");
  });

  it("say exits 1 when the deployment fails, with the reason in the thread", async () => {
    const r = await run(["say", "deploy hello local no-such-branch"], env);
    expect(r.code).toBe(1);
    expect(r.out).toContain("no-such-branch");
  });

  it("the terminal chat answers typed commands from the database and the playbook", async () => {
    const r = await run(["bot"], env, "apps\nreleases hello local\nlock hello local testing\ndeploy hello local\nunlock hello local\nexit\n");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("hello: local v1");
    expect(r.out).toMatch(/v1 .* by U_CLI/);
    expect(r.out).toContain("hello local is locked by U_CLI (testing).");
    expect(r.out).toContain("hello local is unlocked.");
  });
});
