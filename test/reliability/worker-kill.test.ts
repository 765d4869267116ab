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
 *
 * Four steps at a time, each in an environment of its own (its own procs, pool and load), all
 * held in one victim worker and ended by one kill: a round costs one worker start and one lock
 * takeover instead of four (each scenario a worker and a takeover of its own made this file the
 * suite's second longest).
 */
import { spawn, type ChildProcess } from "node:child_process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { startLoad, type Load } from "../support/http-load.ts";
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
type Step = (typeof STEPS)[number];
/** Steps a `config set` runs: the rest of the pipeline without resolve and build (quicker than a deploy). */
const CONFIG_STEPS: readonly string[] = STEPS.slice(2);
/** hello's environments, each with its pool `hello_<env>` on nginx; a round kills one step in each. */
const ENVS = ["prod", "k2", "k3", "k4"] as const;
/** The steps killed together, the i-th in ENVS[i]. */
const ROUNDS: readonly (readonly Step[])[] = [STEPS.slice(0, 4), STEPS.slice(4)];

/** One scenario of a round: the deployment that was killed in `step`, and what it should serve after. */
interface Scenario {
  step: Step;
  env: string;
  id: string;
  since?: string;
  deploys: boolean;
  marker: string;
}

describe("a worker SIGKILLed in each pipeline step, under load through nginx", () => {
  let nb: NginxBed;
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let nginx: TestNginx;
  let sql: postgres.Sql;
  const loads: Load[] = [];
  /** The live `bin/raptor worker` processes by name; two at a time, so one can take over from the other. */
  const workers = new Map<string, ChildProcess>();
  let spawned = 0;
  let workerLog = "";
  let version = 1;
  /** Each round, run once by the first of its steps' tests. */
  const rounds = new Map<number, Promise<Map<Step, Scenario>>>();

  beforeAll(async () => {
    nb = await startNginxBed({ envs: [...ENVS] });
    ({ bed, nginx, repo } = nb);
    const yaml = nb.playbookYaml({ size: { web: 2 }, drain: `${DRAIN_MS}ms`, uptest_timeout: "20s", release_hook: ["sh", "-c", "echo migrated"] });
    h = await startHarness({ workers: 0, options: { lockDurationMs: LOCK_MS, drainMs: DRAIN_MS, startTimeoutMs: 20_000 }, playbookYaml: { "pb.yaml": yaml } });
    // A round holds one session per step's row and one on the events table (4 + 1), reserved from this pool.
    sql = postgres(h.env.DATABASE_URL!, { max: 8, onnotice: () => {} });
    spawnWorker();
    spawnWorker();
    for (const r of await Promise.all(ENVS.map((e) => h.say(`deploy hello ${e}`)))) expect(r.final?.type, `${r.text}\n${workerLog}`).toBe("deployment.succeeded");
    for (const e of ENVS) loads.push(startLoad(nginx.url(`/hello_${e}/`), { concurrency: 1, pauseMs: 10 }));
  }, 240_000);

  afterAll(async () => {
    for (const l of loads) await l.stop();
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
  /** The workers whose Postgres sessions wait on a lock in this database, one name per waiting session. */
  const held = async () =>
    (await sql`select a.application_name as app from pg_locks l join pg_stat_activity a on a.pid = l.pid where not l.granted and a.datname = current_database()`).map((r) => String(r.app).replace(/^raptor-/, ""));
  const stepStatus = async (id: string, step: string) =>
    (await sql`select status from deployment_steps where deployment_id = ${id} and name = ${step}`)[0]?.status as string | undefined;

  /**
   * Runs round `n`: one deployment per step (a deploy of a new commit for resolve and build, a
   * config change for the later steps), all taken by one victim worker and held, each on its
   * step's checkpoint row, then, marked running, on the events table; one SIGKILL ends them all.
   */
  async function runRound(n: number): Promise<Map<Step, Scenario>> {
    const t0 = Date.now();
    const mark = (what: string) => process.env.RAPTOR_TEST_LOG && console.log(`round ${n}: ${what} at ${Date.now() - t0} ms`);
    const steps = ROUNDS[n]!;
    // resolve and build need a new commit; the later steps are run by a config change, which
    // skips them (saving a build per scenario).
    if (steps.some((s) => s === "resolve" || s === "build")) {
      version++;
      await repo.commit({ VERSION: `v${version}\n` }, `v${version}`);
    }
    // Freeze the workers so none takes a job before its step's row is held.
    for (const w of workers.values()) signalGroup(w.pid!, "SIGSTOP");
    const scenarios = new Map<Step, Scenario>();
    for (const [i, step] of steps.entries()) {
      const env = ENVS[i]!;
      const deploys = step === "resolve" || step === "build";
      const reply = await h.say(deploys ? `deploy hello ${env}` : `config set hello ${env} GREETING=${step}`, { follow: false });
      if (reply.reply.kind !== "deployment") throw new Error(reply.text);
      scenarios.set(step, { step, env, id: reply.reply.deploymentId, since: reply.reply.since, deploys, marker: deploys ? `hello from v${version}` : `GREETING=${step}` });
    }

    const rows = await Promise.all(steps.map(() => sql.reserve()));
    const events = await sql.reserve();
    try {
      for (const [i, step] of steps.entries()) {
        await rows[i]!`begin`;
        await rows[i]!`select 1 from deployment_steps where deployment_id = ${scenarios.get(step)!.id} and name = ${step} for update`;
      }
      // One worker, the victim, takes every job and runs the steps before each one's, then waits to
      // mark it running; the other stays frozen until the victim is gone.
      const [victim, ...others] = [...workers.keys()];
      signalGroup(workers.get(victim!)!.pid!, "SIGCONT");
      mark(`requested ${[...scenarios.values()].map((x) => x.id).join(" ")}; victim ${victim}`);
      const victimWaits = async () => (await held()).filter((w) => w === victim).length;
      await until(`${victim} to reach ${steps.join(", ")}`, async () => (await victimWaits()) === steps.length, 90_000);
      mark(`held before each step (worker ${victim})`);
      await events`begin`;
      await events`lock table deployment_events in exclusive mode`;
      for (const r of rows) await r`commit`;
      // Marked running, each now waits to say `step.started`: kill the victim there.
      await until(`${steps.join(", ")} to be marked running`, async () => {
        for (const s of scenarios.values()) if ((await stepStatus(s.id, s.step)) !== "running") return false;
        return (await victimWaits()) === steps.length;
      }, 90_000);
      const pid = workers.get(victim!)!.pid!;
      killGroup(pid);
      workers.delete(victim!);
      await until("the killed worker to be gone", async () => groupMembers(pid).length === 0, 5_000);
      await events`commit`;
      mark("killed");
      // The survivor takes the stalled jobs over; a new worker joins for the next round.
      for (const o of others) signalGroup(workers.get(o)!.pid!, "SIGCONT");
      spawnWorker();
    } finally {
      // After a failure: no lock left held, no worker left frozen.
      for (const r of [...rows, events]) {
        await r`rollback`.catch(() => undefined);
        r.release();
      }
      for (const w of workers.values()) signalGroup(w.pid!, "SIGCONT");
    }
    for (const s of scenarios.values()) expect(await stepStatus(s.id, s.step), s.step).toBe("running");
    return scenarios;
  }

  for (const [n, steps] of ROUNDS.entries()) {
    for (const step of steps) {
      it(`killed in ${step}: another worker finishes the deployment; pool, supervisord and database agree`, { timeout: 120_000 }, async () => {
        if (!rounds.has(n)) rounds.set(n, runRound(n));
        const s = (await rounds.get(n)!).get(step)!;
        const r = await h.follow(s.id, s.since);
        expect(r.final?.type, `${r.text}\n${workerLog.slice(-3000)}`).toBe("deployment.succeeded");
        expect(r.text).toContain(`resumed at ${step.replace(/_/g, " ")} by another worker`);
        const stepRows = await sql`select name, status from deployment_steps where deployment_id = ${s.id} order by position`;
        expect(stepRows.map((x) => `${x.name}:${x.status}`)).toEqual((s.deploys ? STEPS : CONFIG_STEPS).map((x) => `${x}:succeeded`));

        const rows = await liveProcRows(h, "hello", s.env);
        expect(rows).toHaveLength(2);
        expect(await poolNodes(h, "edge", `hello_${s.env}`)).toEqual(nodesOf(rows));
        for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain(s.marker);
        expect(await httpGet(nginx.address, nginx.port, `/hello_${s.env}/`)).toContain(s.marker);
        // The whole fleet: supervisord runs exactly the live procs of every environment (no orphan
        // left by the killed worker), once this round's deployments have all ended.
        for (const o of (await rounds.get(n)!).values()) await h.follow(o.id, o.since);
        expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(await liveProcRows(h, "hello")));
      });
    }
  }

  it("no request through nginx failed while workers were killed", async () => {
    for (const [i, l] of loads.entries()) {
      const report = await l.stop();
      expect(report.sent).toBeGreaterThan(100);
      expect(report.failures, `${ENVS[i]}: ${report.failed} of ${report.sent} failed`).toEqual([]);
      if (process.env.RAPTOR_TEST_LOG) console.log(`load ${ENVS[i]}: ${report.sent} sent, ${report.failed} failed`);
    }
  });
});
