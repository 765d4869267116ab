/**
 * bench/throughput: deployments per minute with 1, 2 and 4 `raptor worker` processes (issue 14,
 * fault 5; target: 2 workers >= 1.8x the throughput of 1). Real everything: three ssh+supervisord
 * hosts on loopback, Postgres, Redis, and compiled `raptor worker` processes (scripts/build.sh),
 * as an operator runs them. Apps (one web proc each, spread over the three hosts) are built and
 * deployed once in a warm-up; a burst is `config set` on many apps at once (a new release of built
 * code: a proc started, uptested, pooled, the old one removed), timed until the last one ends.
 *
 * Two scenarios, each measured with 1, 2 and 4 workers, rounds alternated (worker counts and
 * scenarios in turn), medians:
 *  - "default": 20 apps at once (the issue's burst), workers as configured by default
 *    (RAPTOR_CONCURRENCY 16). Shows whether one worker absorbs such a burst on its own.
 *  - "sized": BENCH_APPS (48) apps at once, each worker "of size N": RAPTOR_CONCURRENCY=N
 *    (BENCH_WORKER_SIZE, default 2), so one worker takes 2 at a time and the rest wait for a
 *    slot: each worker's capacity is the limit, and 48 apps make whole waves for 1, 2 and 4
 *    workers (24, 12 and 6). Shows whether throughput grows with workers when workers are what
 *    limits it, as long as the machine has the CPU for twice and four times the work.
 * For each burst, from the database: how many deployments ran at once (peak), one deployment's
 * time from taking its turn to its end, its wait for a free worker, each step's median; from
 * /proc: the CPU per deployment of the workers and of the test bed's hosts (sshd, supervisord,
 * procs, uptests: everything this process started but the workers), and how busy the whole
 * machine was (both cores, every process, other people's work included), so it shows when the
 * machine rather than the workers is the limit. Postgres and Redis are shared services, not counted.
 * Env: BENCH_APPS (48), BENCH_WORKER_SIZE (2), BENCH_ROUNDS (3), BENCH_APP=hello for the demo app
 * instead of bench/throughput-app.ts's small one, BENCH_SCENARIOS=default,sized, BENCH_WORKER_LOG=<file> to
 * keep the workers' log (raptor.log lines) after the run.
 */
import { rm } from "node:fs/promises";
import { loadavg } from "node:os";
import postgres from "postgres";
import { makeAppRepo, HELLO_APP } from "../test/support/app-repo.ts";
import { startHarness, type Harness } from "../test/support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../test/support/testbed.ts";
import { compiledRaptor } from "./compiled-raptor.ts";
import { SMALL_APP } from "./throughput-app.ts";
import { burstFigures, type BurstFigures, type DeploymentTimes } from "./throughput-figures.ts";
import { machineBusyMs, startWorkerProcess, treeCpuMs, type WorkerProcess } from "./worker-group.ts";

const APPS = Number(process.env.BENCH_APPS ?? 48);
const SIZE = Number(process.env.BENCH_WORKER_SIZE ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DEFAULT_BURST = 20;
const COUNTS = [1, 2, 4];
const PG = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BURST_TIMEOUT_MS = 600_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Set by Ctrl-C (or SIGTERM): the run is being taken down on purpose. */
let interrupted = false;

interface Scenario {
  name: "default" | "sized";
  apps: string[];
  /** On top of the harness's environment, for each worker process. */
  env: Record<string, string>;
  what: string;
}

async function main() {
  const apps = Array.from({ length: APPS }, (_, i) => `t${String(i + 1).padStart(2, "0")}`);
  const scenarios: Scenario[] = [
    { name: "default", apps: apps.slice(0, DEFAULT_BURST), env: {}, what: `${DEFAULT_BURST} apps at once, workers of the default size (RAPTOR_CONCURRENCY 16)` },
    { name: "sized", apps, env: { RAPTOR_CONCURRENCY: String(SIZE) }, what: `${APPS} apps at once, workers of size ${SIZE} (RAPTOR_CONCURRENCY=${SIZE})` },
  ].filter((s) => (process.env.BENCH_SCENARIOS ?? "default,sized").split(",").includes(s.name)) as Scenario[];

  const dbName = `raptor_bench_${Date.now().toString(36)}`;
  const admin = postgres(PG, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(PG);
  url.pathname = `/${dbName}`;
  let bed: Testbed | undefined;
  let h: Harness | undefined;
  let sql: postgres.Sql | undefined;
  let repoPath: string | undefined;
  const alive = new Set<WorkerProcess>();
  // One clean-up for every way out: the end, a failed phase, Ctrl-C. After a failure the workers
  // are killed (their process groups, SIGKILL), not asked to finish the jobs they hold.
  let cleaning: Promise<void> | undefined;
  const cleanUp = (failed: boolean) =>
    (cleaning ??= (async () => {
      await Promise.all([...alive].map((w) => (failed ? w.kill() : w.stop())));
      await sql?.end({ timeout: 5 }).catch(() => {});
      await h?.close().catch((e) => console.error("closing the harness:", e));
      await bed?.stop().catch((e) => console.error("stopping the test bed:", e));
      await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => {});
      await admin.end().catch(() => {});
      if (repoPath) await rm(repoPath, { recursive: true, force: true });
    })());
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      interrupted = true;
      console.error(`${sig}: stopping workers and test bed`);
      void cleanUp(true).finally(() => process.exit(130));
    });
  }

  const got = new Map<string, BurstFigures[]>();
  let failed = true;
  try {
    bed = await startTestbed({ hosts: 3 });
    const repo = process.env.BENCH_APP === "hello" ? await makeAppRepo(HELLO_APP, { VERSION: "v0\n" }) : await makeAppRepo(null, SMALL_APP);
    repoPath = repo.path;
    h = await startHarness({
      databaseUrl: url.toString(),
      workers: 0,
      playbookYaml: {
        "pb.yaml": [
          "squads:",
          bed.squadYaml("three"),
          "balancers:",
          "  lb: { kind: memory }",
          "apps:",
          ...apps.flatMap((a) => [`  ${a}:`, `    repo: ${JSON.stringify(repo.path)}`, `    environments: { bench: { squad: three, size: { web: 1 }, balancer: lb, pool: p_${a}, uptest_timeout: 60s } }`]),
        ].join("\n"),
      },
    });
    sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
    const raptor = await compiledRaptor();
    const harness = h;
    const db = sql;

    const startWorkers = async (n: number, env: Record<string, string>): Promise<WorkerProcess[]> => {
      const ws = Array.from({ length: n }, () => startWorkerProcess(raptor, { ...harness.env, ...env, LOG_LEVEL: "warn", RAPTOR_METRICS_PORT: "off", RAPTOR_LOG_FILE: process.env.BENCH_WORKER_LOG ?? `${harness.dataDir}/worker.log` }));
      for (const w of ws) alive.add(w);
      for (const started = Date.now(); (await harness.engine.queues.deployments.getWorkersCount()) < n; await sleep(100)) {
        const dead = ws.find((w) => w.exited());
        if (dead) throw new Error(`a worker exited at start:\n${dead.output()}`);
        if (Date.now() - started > 120_000) throw new Error(`workers not up after 120 s:\n${ws.map((w) => w.output()).join("\n")}`);
      }
      return ws;
    };
    const stopWorkers = async (ws: WorkerProcess[]) => {
      await Promise.all(ws.map((w) => w.stop()));
      for (const w of ws) alive.delete(w);
      for (const started = Date.now(); (await harness.engine.queues.deployments.getWorkersCount()) > 0 && Date.now() - started < 30_000; ) await sleep(100);
    };
    /** Requests `text(app)` for every app at once; resolves with the deployments' rows once all have ended. */
    const burst = async (list: string[], text: (app: string) => string): Promise<{ t0: number; rows: DeploymentTimes[] }> => {
      const t0 = Date.now();
      const ids = await Promise.all(
        list.map(async (a) => {
          const r = await harness.say(text(a), { follow: false });
          if (r.reply.kind !== "deployment") throw new Error(`${text(a)} started no deployment: ${r.text}`);
          return r.reply.deploymentId;
        }),
      );
      for (;;) {
        const rows = await db<{ id: string; status: string; error: string | null; created_at: Date; started_at: Date | null; finished_at: Date | null }[]>`
          select id, status, error, created_at, started_at, finished_at from deployments where id = any(${ids})`;
        const bad = rows.find((r) => r.status === "failed" || r.status === "cancelled");
        if (bad) throw new Error(`deployment ${bad.id} ${bad.status}: ${bad.error}`);
        if (rows.length === ids.length && rows.every((r) => r.status === "succeeded")) {
          const steps = await db<{ deployment_id: string; name: string; started_at: Date; finished_at: Date }[]>`
            select deployment_id, name, started_at, finished_at from deployment_steps where deployment_id = any(${ids}) and status = 'succeeded' order by position`;
          return {
            t0,
            rows: rows.map((r) => ({
              requestedAt: r.created_at.getTime(),
              startedAt: r.started_at!.getTime(),
              finishedAt: r.finished_at!.getTime(),
              steps: Object.fromEntries(steps.filter((s) => s.deployment_id === r.id).map((s) => [s.name, s.finished_at.getTime() - s.started_at.getTime()])),
            })),
          };
        }
        if (Date.now() - t0 > BURST_TIMEOUT_MS) throw new Error(`the burst did not end in ${BURST_TIMEOUT_MS / 1000} s`);
        await sleep(100);
      }
    };

    // Warm-up, not measured: every app built and deployed once (its first proc, the hosts' copies of its build).
    process.stderr.write(`warm-up: building and deploying ${APPS} apps with 4 workers...\n`);
    const warm = await startWorkers(4, {});
    await burst(apps, (a) => `deploy ${a} bench`);
    await stopWorkers(warm);

    for (let round = 1; round <= ROUNDS; round++) {
      const counts = round % 2 ? COUNTS : [...COUNTS].reverse();
      for (const s of round % 2 ? scenarios : [...scenarios].reverse()) {
        for (const n of counts) {
          const ws = await startWorkers(n, s.env);
          const workersCpu = () => ws.reduce((sum, w) => sum + treeCpuMs(w.child.pid!), 0);
          const cpu0 = workersCpu();
          const tree0 = treeCpuMs(process.pid);
          const machine0 = machineBusyMs();
          const own0 = process.cpuUsage();
          const loadAvg = loadavg()[0]!;
          const b = await burst(s.apps, (a) => `config set ${a} bench ROUND=${round}-${s.name}-${n}`);
          const own = process.cpuUsage(own0);
          const workersCpuMs = workersCpu() - cpu0;
          const benchCpuMs = (own.user + own.system) / 1000;
          const figures = burstFigures(b.t0, b.rows, {
            workersCpuMs,
            // This process's tree is the bench, the workers and the test bed (sshd, supervisord, procs, uptests).
            hostsCpuMs: treeCpuMs(process.pid) - tree0 - workersCpuMs - benchCpuMs,
            machineCpuMs: machineBusyMs() - machine0,
            benchCpuMs,
            loadAvg,
          });
          await stopWorkers(ws);
          const key = `${s.name}/${n}`;
          got.set(key, [...(got.get(key) ?? []), figures]);
          process.stderr.write(
            `round ${round}, ${s.name}, ${n} worker${n === 1 ? "" : "s"}: ${s.apps.length} deployments in ${figures.wallMs} ms, ` +
              `peak ${figures.peak} at once, one deployment ${figures.runMs} ms, waited ${figures.waitMs} ms, CPU: workers ${figures.workersCpuMs.toFixed(0)} ms, hosts ${figures.hostsCpuMs.toFixed(0)} ms, ` +
              `machine ${((100 * figures.machineCpuMs) / figures.wallMs / 2).toFixed(0)}% busy, load ${loadAvg.toFixed(1)}; steps ${Object.entries(figures.stepMs).map(([k, v]) => `${k} ${v}`).join(", ")}\n`,
          );
        }
      }
    }
    failed = false;
  } catch (err) {
    // Printed before the clean-up, which may fail in its turn and hide it (after Ctrl-C, what
    // fails is only the clean-up pulling things from under the run: not worth a stack).
    if (!interrupted) console.error("throughput bench failed:", err);
    throw err;
  } finally {
    await cleanUp(failed);
  }
  report(scenarios, got);
}

/** Prints one table per scenario: medians over the rounds, ratios against 1 worker of the same run. */
function report(scenarios: Scenario[], got: Map<string, BurstFigures[]>) {
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  for (const s of scenarios) {
    const m = (n: number, f: (b: BurstFigures) => number) => median(got.get(`${s.name}/${n}`)!.map(f));
    const perMin = (n: number) => (s.apps.length / m(n, (b) => b.wallMs)) * 60_000;
    console.log(`\n${s.name}: ${s.what}; ${ROUNDS} round${ROUNDS === 1 ? "" : "s"} alternated, medians`);
    console.log("  | workers | all done in | per minute | vs 1 | peak at once | one deployment | waited for a worker | CPU per deployment: workers, hosts | machine busy | load at start |");
    for (const n of COUNTS) {
      console.log(
        `  | ${n} | ${ms(m(n, (b) => b.wallMs))} | ${perMin(n).toFixed(1)} | x${(perMin(n) / perMin(1)).toFixed(2)} | ${m(n, (b) => b.peak)} | ` +
          `${ms(m(n, (b) => b.runMs))} | ${ms(m(n, (b) => b.waitMs))} | ${ms(m(n, (b) => b.workersCpuMs / s.apps.length))}, ${ms(m(n, (b) => b.hostsCpuMs / s.apps.length))} | ` +
          `${((100 * m(n, (b) => b.machineCpuMs / b.wallMs)) / 2).toFixed(0)}% | ${m(n, (b) => b.loadAvg).toFixed(1)} |`,
      );
    }
    const steps = Object.keys(got.get(`${s.name}/1`)![0]!.stepMs);
    for (const n of COUNTS) console.log(`  steps, ${n} worker${n === 1 ? "" : "s"} (median ms): ${steps.map((st) => `${st} ${m(n, (b) => b.stepMs[st] ?? 0).toFixed(0)}`).join(", ")}`);
    const r2 = perMin(2) / perMin(1);
    console.log(`  1 -> 2 workers x${r2.toFixed(2)} (target >= 1.8) ${r2 >= 1.8 ? "met" : "MISSED"}; 1 -> 4 workers x${(perMin(4) / perMin(1)).toFixed(2)}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    if (interrupted) return; // the signal handler exits once the clean-up is done
    console.error(err);
    process.exit(1);
  },
);
