/**
 * Reliability: a worker SIGKILLed in each step of the deploy pipeline (resolve, build, release,
 * start, uptest, release hook, route, teardown) while HTTP load runs through a real nginx. Another
 * worker process takes the stalled job over and finishes it; every request through the balancer
 * is answered, the deployment's record and thread are whole, and supervisord, the database and the
 * pool agree, with no orphan proc on any host.
 *
 * Landing the kill inside a given step is done with Postgres locks, not sleeps: the victim worker
 * is held on the lock of step X's checkpoint row, then on the events table, so it is killed with
 * step X marked `running` and its `step.started` not yet said (the state a crash at the top of
 * the step leaves). A kill halfway through `start`'s work is `test/e2e/recovery.test.ts`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { startLoad, type Load } from "../support/load.ts";
import type { TestNginx } from "../support/nginx.ts";
import { startNginxBed, type NginxBed } from "../support/nginx-bed.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { RAPTOR } from "../support/spawn-raptor.ts";
import type { Testbed } from "../support/testbed.ts";
import { groupMembers } from "../support/process-group.ts";

const LOCK_MS = 3_000;
/** Covers nginx's reload on a loaded machine (`nginx -s reload` returns before old workers stop routing); as in the zero-downtime test. */
const DRAIN_MS = 1_500;
const STEPS = ["resolve", "build", "release", "start", "uptest", "release_hook", "route", "teardown"] as const;
/** Steps a `config set` runs: the rest of the pipeline without resolve and build (quicker than a deploy). */
const CONFIG_STEPS: readonly string[] = STEPS.slice(2);

describe("a worker SIGKILLed in each pipeline step, under load through nginx", () => {
  let nb: NginxBed;
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let nginx: TestNginx;
  let sql: postgres.Sql;
  let load: Load;
  /** The live `bin/raptor worker` processes by name; two at a time, so one can take over from the other. */
  const workers = new Map<string, ChildProcess>();
  let spawned = 0;
  let workerLog = "";
  let version = 1;

  beforeAll(async () => {
    nb = await startNginxBed();
    ({ bed, nginx, repo } = nb);
    const yaml = nb.playbookYaml({ size: { web: 2 }, drain: `${DRAIN_MS}ms`, uptest_timeout: "20s", release_hook: ["sh", "-c", "echo migrated"] });
    h = await startHarness({ workers: 0, options: { lockDurationMs: LOCK_MS, drainMs: DRAIN_MS, startTimeoutMs: 20_000 }, playbookYaml: { "pb.yaml": yaml } });
    sql = postgres(h.env.DATABASE_URL!, { max: 4, onnotice: () => {} });
    spawnWorker();
    spawnWorker();
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, `${r.text}\n${workerLog}`).toBe("deployment.succeeded");
    load = startLoad(nginx.url("/"), { concurrency: 2, pauseMs: 10 });
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    for (const w of workers.values()) killGroup(w.pid!);
    await sql?.end();
    await h?.close();
    await nb?.stop();
  });

  /**
   * `bin/raptor worker` in a process group of its own (tsx runs the worker in a child), its
   * Postgres sessions named `raptor-<name>` so the test can tell which worker a held session is.
   */
  function spawnWorker(): ChildProcess {
    const name = `w${++spawned}`;
    const url = new URL(h.env.DATABASE_URL!);
    url.searchParams.set("application_name", `raptor-${name}`);
    const c = spawn(RAPTOR, ["worker"], {
      env: { ...process.env, ...h.env, DATABASE_URL: url.toString(), RAPTOR_LOCK_DURATION_MS: String(LOCK_MS), RAPTOR_DRAIN_MS: String(DRAIN_MS), RAPTOR_START_TIMEOUT_MS: "20000", LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    c.stdout!.on("data", (b: Buffer) => (workerLog += b.toString()));
    c.stderr!.on("data", (b: Buffer) => (workerLog += b.toString()));
    workers.set(name, c);
    return c;
  }
  function signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }
  function killGroup(pid: number): void {
    signalGroup(pid, "SIGKILL");
  }
  async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${workerLog.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** The worker whose Postgres session waits on a lock in this database (the victim, held), if any. */
  const held = async () =>
    ((await sql`select a.application_name as app from pg_locks l join pg_stat_activity a on a.pid = l.pid where not l.granted and a.datname = current_database()`)[0]?.app as string | undefined)?.replace(/^raptor-/, "");
  const stepStatus = async (id: string, step: string) =>
    (await sql`select status from deployment_steps where deployment_id = ${id} and name = ${step}`)[0]?.status as string | undefined;

  for (const step of STEPS) {
    it(`killed in ${step}: another worker finishes the deployment; pool, supervisord and database agree`, { timeout: 90_000 }, async () => {
      const t0 = Date.now();
      const mark = (what: string) => process.env.RAPTOR_TEST_LOG && console.log(`${step}: ${what} at ${Date.now() - t0} ms`);
      // resolve and build need a new commit; the later steps are run by a config change, which
      // skips them (saving a build per scenario).
      const deploys = step === "resolve" || step === "build";
      let command = `config set hello prod GREETING=${step}`;
      let marker = `GREETING=${step}`;
      if (deploys) {
        version++;
        await repo.commit({ VERSION: `v${version}\n` }, `v${version}`);
        command = "deploy hello prod";
        marker = `hello from v${version}`;
      }
      // Freeze the idle workers so neither can take the job before the step's row is held.
      for (const w of workers.values()) signalGroup(w.pid!, "SIGSTOP");
      const reply = await h.say(command, { follow: false });
      if (reply.reply.kind !== "deployment") throw new Error(reply.text);
      const { deploymentId: id, since } = reply.reply;

      const row = await sql.reserve();
      const events = await sql.reserve();
      try {
        await row`begin`;
        await row`select 1 from deployment_steps where deployment_id = ${id} and name = ${step} for update`;
        for (const w of workers.values()) signalGroup(w.pid!, "SIGCONT");
        // The worker that took the job runs the steps before this one, then waits to mark it running.
        let victim: string | undefined;
        await until(`a worker to reach ${step}`, async () => (victim = await held()) !== undefined);
        mark(`held before it (worker ${victim})`);
        await events`begin`;
        await events`lock table deployment_events in exclusive mode`;
        await row`commit`;
        // Marked running, it now waits to say `step.started`: kill it there.
        await until(`${step} to be marked running`, async () => (await stepStatus(id, step)) === "running" && (await held()) === victim);
        const pid = workers.get(victim!)!.pid!;
        killGroup(pid);
        workers.delete(victim!);
        await until("the killed worker to be gone", async () => groupMembers(pid).length === 0, 5_000);
        await events`commit`;
        mark("killed");
        // The survivor takes the stalled job over; a new worker joins for the next scenario.
        spawnWorker();
      } finally {
        row.release();
        events.release();
      }
      expect(await stepStatus(id, step)).toBe("running");

      const r = await h.follow(id, since);
      mark("ended");
      expect(r.final?.type, `${r.text}\n${workerLog.slice(-3000)}`).toBe("deployment.succeeded");
      expect(r.text).toContain(`resumed at ${step.replace(/_/g, " ")} by another worker`);
      const steps = await sql`select name, status from deployment_steps where deployment_id = ${id} order by position`;
      expect(steps.map((s) => `${s.name}:${s.status}`)).toEqual((deploys ? STEPS : CONFIG_STEPS).map((s) => `${s}:succeeded`));

      const rows = await liveProcRows(h, "hello", "prod");
      expect(rows).toHaveLength(2);
      expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(rows));
      expect(await poolNodes(h, "edge", "hello_prod")).toEqual(nodesOf(rows));
      for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain(marker);
      expect(await httpGet(nginx.address, nginx.port)).toContain(marker);
    });
  }

  it("no request through nginx failed while workers were killed", async () => {
    const report = await load.stop();
    expect(report.sent).toBeGreaterThan(100);
    expect(report.failures, `${report.failed} of ${report.sent} failed`).toEqual([]);
    if (process.env.RAPTOR_TEST_LOG) console.log(`load: ${report.sent} sent, ${report.failed} failed`);
  });
});
