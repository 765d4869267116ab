import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, writeFile, mkdir, readFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { freshDb } from "../support/db.ts";
import { REDIS_URL, httpGet } from "../support/raptor-harness.ts";
import { localSquadLines } from "../support/playbook-yaml.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { bullPrefix } from "../../engine/queues.ts";
import { SAY_WORKER_NAME } from "../../engine/worker.ts";

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
  let workingCopy: string;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v7\n" });
    const db = await freshDb();
    await db.close();
    closeDb = async () => {};
    const dir = await mkdtemp(join(tmpdir(), "raptor-cli-"));
    workingCopy = join(dir, "wc");
    await cp(HELLO_APP, workingCopy, { recursive: true });
    await writeFile(join(workingCopy, "VERSION"), "wc-1\n");
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
        // Issue 11 item 12: a plain directory deployed as it is at each deploy, like the demo's examples/hello.
        "  wc:",
        `    repo: ${JSON.stringify(workingCopy)}`,
        "    working_copy: true",
        "    environments:",
        "      local: { squad: here, size: { web: 1 }, balancer: lb, pool: wc_local }",
      ].join("\n"),
    );
    env = { DATABASE_URL: db.url, REDIS_URL, RAPTOR_PREFIX: `cli${process.pid}:`, RAPTOR_PLAYBOOKS: join(dir, "pb"), RAPTOR_DATA: join(dir, "data"), RAPTOR_DRAIN_MS: "0" };
  }, 120_000);
  /** The BullMQ worker name that ran the deployment whose thread `out` printed (the job's processedBy). */
  async function processedBy(out: string): Promise<string | undefined> {
    const id = /\[(d-[a-z0-9]+)\]/.exec(out)?.[1];
    const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue("deployments", { connection: conn, prefix: bullPrefix(env.RAPTOR_PREFIX!) });
    try {
      return (await queue.getJob(id!))?.processedBy;
    } finally {
      await queue.close();
      conn.disconnect();
    }
  }
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
    expect(r.out).toContain('unknown app "nope". Known apps: hello, wc.');
  });

  let deployOut = "";
  it("say deploy prints the thread, follows it to the end and exits 0; the proc answers", async () => {
    const r = await run(["say", "deploy hello local"], env);
    deployOut = r.out;
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/✓ resolve .*main → [0-9a-f]{7}/);
    expect(r.out).toContain("is now v1");
    const port = Number(/web:(\d+)/.exec(r.out)?.[1]);
    expect(await httpGet(bed.hosts[0]!.name, port)).toContain("hello from v7");
    // No other worker alive: say's own (issue 11: for this deployment only) ran it.
    expect(await processedBy(r.out)).toBe(SAY_WORKER_NAME);
  });

  // Issue 11 (new-user trial): say's own full worker took `make run`'s jobs, with say's shell's
  // environment (another supervisord port and its password), the beat's reconcile and hosts too.
  it("with a raptor worker running, say leaves its deploy to that worker and runs none of its own", { timeout: 120_000 }, async () => {
    const worker = spawn(RAPTOR, ["worker"], { env: { ...process.env, ...env, RAPTOR_METRICS_PORT: "off" }, stdio: ["ignore", "ignore", "pipe"] });
    const exited = new Promise((done) => worker.on("close", done));
    try {
      let err = "";
      await new Promise<void>((ready, failed) => {
        worker.stderr.on("data", (d) => (err += d) && /ready: the worker takes jobs/.test(err) && ready());
        worker.on("close", () => failed(new Error(`raptor worker ended: ${err}`)));
      });
      const r = await run(["say", "deploy hello local"], env);
      expect(r.code, r.out + r.err).toBe(0);
      expect(await processedBy(r.out)).toBe(`worker-${hostname()}-${worker.pid}`.replace(/[^\w.-]/g, "_"));
    } finally {
      worker.kill("SIGTERM");
      await exited;
    }
  });

  // Issue 11 item 11: `show <id>` replays a deployment's thread and outcome, as it was printed.
  it("say show <id> replays the deploy's thread: the same step lines and outcome, from the database", async () => {
    const id = /\[(d-[a-z0-9]+)\]/.exec(deployOut)?.[1];
    expect(id, deployOut).toBeDefined();
    const r = await run(["say", `show ${id}`], env);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`${id}: Deploy hello local, succeeded`);
    const steps = (out: string) => out.split("\n").filter((l) => /^ {2}[✓✗–] /.test(l)).map((l) => l.replace(/ {2}[\d.]+m?s\b/, ""));
    expect(steps(r.out)).toEqual(steps(deployOut));
    expect(r.out).toMatch(/✓ Deploy hello local is now v1 \([0-9a-f]{7}\)/);
  });

  it("say exits 1 when the deployment fails, with the reason in the thread", async () => {
    const r = await run(["say", "deploy hello local no-such-branch"], env);
    expect(r.code).toBe(1);
    expect(r.out).toContain("no-such-branch");
  });

  it("the terminal chat answers typed commands from the database and the playbook", async () => {
    const r = await run(["bot"], env, "apps\nhosts\nreleases hello local\nlock hello local testing\ndeploy hello local\nunlock hello local\nexit\n");
    expect(r.code, r.err).toBe(0);
    // New-user trial: a minute of silence before the prompt. Each start-up phase is said, timed.
    expect(r.err).toMatch(/^raptor: loading its modules/m);
    expect(r.err).toMatch(/^raptor: [\d.]+s connecting to Postgres \(DATABASE_URL\) and applying migrations$/m);
    expect(r.err).toMatch(/^raptor: [\d.]+s starting the chat$/m);
    // Issue 11 item 11: plain text, not Slack mrkdwn (the squad heading was `*here*`).
    expect(r.out).toMatch(/^here \(local, ports \d+-\d+\)$/m);
    expect(r.out).not.toMatch(/\*here\*|:[a-z_]+:|<[^>\s]+\|[^>]+>/);
    expect(r.out).toContain("hello: local v1");
    expect(r.out).toMatch(/v1 .* by U_CLI/);
    expect(r.out).toContain("hello local is locked by U_CLI (testing).");
    expect(r.out).toContain("hello local is unlocked.");
  });

  it("raptor.log records each command (who, what, where), each step with its duration, the failure's reason and its compensation, and no secret", { timeout: 120_000 }, async () => {
    const planted = "planted-s3cret-9f3e2a";
    // On stdin (`say -`): `say` refuses a secret on its command line, where `ps` shows it.
    const r = await run(["say", "-"], env, `config secret hello local API_TOKEN=${planted} GREETING=howdy-partner\n`);
    expect(r.code, r.out + r.err).toBe(0);
    const text = await readFile(join(env.RAPTOR_DATA!, "raptor.log"), "utf8");
    expect(text).not.toContain(planted);
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    // Commands: who, what, where, how it ended.
    expect(lines).toContainEqual(expect.objectContaining({ actor: "U_CLI", origin: "terminal", command: "deploy", app: "hello", env: "local", text: "deploy hello local", outcome: "deployment" }));
    expect(lines).toContainEqual(expect.objectContaining({ actor: "U_CLI", command: "help", outcome: "answer" }));
    expect(lines).toContainEqual(expect.objectContaining({ actor: "U_CLI", command: "unparsed", verb: "deploy", outcome: "parse_error" }));
    const secretCmd = lines.find((l) => l.command === "config-set");
    expect(secretCmd?.text).toBe("config secret hello local API_TOKEN=… GREETING=…");
    // Steps: each start and each end, with its duration.
    const deployId = lines.find((l) => l.command === "deploy" && l.text === "deploy hello local")?.deploymentId;
    const of = (id: unknown) => lines.filter((l) => l.deploymentId === id);
    expect(of(deployId).map((l) => l.event)).toEqual(expect.arrayContaining(["deployment.queued", "deployment.started", "step.started", "step.finished", "deployment.succeeded"]));
    for (const step of ["resolve", "build", "release", "start", "uptest", "route", "teardown"]) {
      expect(of(deployId)).toContainEqual(expect.objectContaining({ event: "step.started", step }));
      expect(of(deployId)).toContainEqual(expect.objectContaining({ event: "step.finished", step, durationMs: expect.any(Number) }));
    }
    // The failure: its reason, at error level, and the compensation that followed it.
    const failed = lines.find((l) => l.event === "deployment.failed" && String(l.reason).includes("no-such-branch"));
    expect(failed).toMatchObject({ level: 50, code: "ref_not_found", step: "resolve", durationMs: expect.any(Number) });
    expect(of(failed?.deploymentId)).toContainEqual(expect.objectContaining({ event: "step.failed", step: "resolve", reason: expect.stringContaining("no-such-branch") }));
    expect(of(failed?.deploymentId)).toContainEqual(expect.objectContaining({ recovery: "compensated", why: "failed at resolve" }));
  });

  it("an app deployed from a working copy: an edit is picked up by the next deploy, no commit needed; a ref is refused before queueing", { timeout: 240_000 }, async () => {
    const answer = async (out: string) => httpGet(bed.hosts[0]!.name, Number(/web:(\d+)/.exec(out)?.[1]));
    const first = await run(["say", "deploy wc local"], env);
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out).toMatch(/✓ resolve .*working copy .* → [0-9a-f]{7}/);
    expect(await answer(first.out)).toContain("hello from wc-1");
    // An edit, not committed anywhere: the next deploy runs it.
    await writeFile(join(workingCopy, "VERSION"), "wc-2\n");
    // New-user trial: plan said "→ main" and "already serving" (the last snapshot, not the edit).
    const plan = await run(["say", "plan deploy wc local"], env);
    expect(plan.out).toMatch(/^v1 \([0-9a-f]{7}\) → working copy of .*\/wc → [0-9a-f]{7} as a new release$/m);
    expect(plan.out).not.toContain("→ main");
    expect(plan.out).toContain("procs: 1 start, 1 stop");
    const second = await run(["say", "deploy wc local"], env);
    expect(second.code, second.out + second.err).toBe(0);
    expect(await answer(second.out)).toContain("hello from wc-2");
    // The thread names the commit range between the two snapshots, not a git error.
    expect(second.out).not.toContain("commits: unknown");
    expect(second.out).toMatch(/[0-9a-f]{7}\.\.[0-9a-f]{7}/);
    // The commit plan showed is the one the deploy shipped.
    expect(second.out).toContain(`→ ${/ → ([0-9a-f]{7}) as a new release/.exec(plan.out)?.[1]}`);
    // The directory was not written to (no .git appeared in it).
    expect(existsSync(join(workingCopy, ".git"))).toBe(false);
    // Trial 2, M3: an edit snapshotted but never served (here by its plan), then the files restored
    // to exactly what serves: "2 new commits" and a new release. Now nothing changed, wc-2's release stays.
    await writeFile(join(workingCopy, "VERSION"), "wc-3\n");
    expect((await run(["say", "plan deploy wc local"], env)).out).toContain("as a new release");
    await writeFile(join(workingCopy, "VERSION"), "wc-2\n");
    const restored = await run(["say", "plan deploy wc local"], env);
    expect(restored.out).toContain("nothing would change");
    expect(restored.out).not.toContain("new commit");
    const again = await run(["say", "deploy wc local"], env);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.out).toMatch(/nothing changed, v2 \([0-9a-f]{7}\) already serves this build and config/);
    expect(await answer(second.out)).toContain("hello from wc-2");
    const ref = await run(["say", "deploy wc local main"], env);
    expect(ref.code).toBe(1);
    expect(ref.out).toContain("deploys the files in");
  });
});
