/**
 * bench/throughput: deployments per minute with 1, 2 and 4 worker processes (issue 14, fault 5).
 * Real everything: three ssh+supervisord hosts on loopback, Postgres, Redis, and `bin/raptor worker`
 * processes as an operator runs them (default RAPTOR_CONCURRENCY and RAPTOR_HOST_OPS unless set in
 * this bench's environment). 20 small apps (one web proc each, spread over the three hosts) are
 * built once in a warm-up; each measured burst is `config set` on all 20 at once (a new release of
 * built code: a proc started, uptested, pooled, the old one removed), timed until the last one ends.
 * Worker counts are alternated across rounds; medians. Also prints what a deployment consumes:
 * the workers' CPU time (from /proc) per deployment, against its wall time.
 * Target: 2 workers >= 1.8x the throughput of 1.
 */
import { readdirSync, readFileSync } from "node:fs";
import postgres from "postgres";
import { makeAppRepo, HELLO_APP } from "../test/support/app-repo.ts";
import { startHarness } from "../test/support/raptor-harness.ts";
import { startRaptor, type Daemon } from "../test/support/spawn-raptor.ts";
import { startTestbed } from "../test/support/testbed.ts";

const APPS = Number(process.env.BENCH_APPS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const COUNTS = [1, 2, 4];
const PG = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const TICK_MS = 1000 / 100; // USER_HZ

/** CPU ms (user + system) of `pid` and all its descendants, from /proc. */
function treeCpuMs(pid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const walk = (p: number) => {
    total += stats.get(p)?.ticks ?? 0;
    for (const [c, s] of stats) if (s.ppid === p) walk(c);
  };
  walk(pid);
  return total * TICK_MS;
}

async function main() {
  const dbName = `raptor_bench_${Date.now().toString(36)}`;
  const admin = postgres(PG, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(PG);
  url.pathname = `/${dbName}`;
  const bed = await startTestbed({ hosts: 3 });
  const repo = await makeAppRepo(HELLO_APP, { VERSION: "v0\n" });
  const apps = Array.from({ length: APPS }, (_, i) => `t${String(i + 1).padStart(2, "0")}`);
  const h = await startHarness({
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
  const burst = async (round: string) => {
    const t0 = performance.now();
    const results = await Promise.all(apps.map((a) => h.say(`config set ${a} bench ROUND=${round}`)));
    const ms = performance.now() - t0;
    const bad = results.find((r) => r.final?.type !== "deployment.succeeded");
    if (bad) throw new Error(`a deployment of round ${round} did not succeed:\n${bad.text}`);
    return ms;
  };
  const alive = new Set<Daemon>();
  const startWorkers = async (n: number): Promise<Daemon[]> => {
    const ds = Array.from({ length: n }, () => startRaptor(["worker"], { ...h.env, LOG_LEVEL: "warn" }));
    for (const d of ds) alive.add(d);
    for (const started = Date.now(); (await h.engine.queues.deployments.getWorkersCount()) < n; ) {
      if (Date.now() - started > 120_000) throw new Error(`workers not up after 120 s:\n${ds.map((d) => d.output()).join("\n")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return ds;
  };
  const stopWorkers = async (ds: Daemon[]) => {
    await Promise.all(ds.map((d) => d.stop()));
    for (const d of ds) alive.delete(d);
    for (const started = Date.now(); (await h.engine.queues.deployments.getWorkersCount()) > 0 && Date.now() - started < 30_000; ) {
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const got = new Map<number, { ms: number[]; cpu: number[] }>(COUNTS.map((n) => [n, { ms: [], cpu: [] }]));
  try {
    // Warm-up, not measured: 20 builds, each app's first procs, the hosts' copies of the builds.
    const warm = await startWorkers(4);
    await Promise.all(apps.map(async (a) => {
      const r = await h.say(`deploy ${a} bench`);
      if (r.final?.type !== "deployment.succeeded") throw new Error(`warm-up deploy of ${a} failed:\n${r.text}`);
    }));
    await stopWorkers(warm);
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? COUNTS : [...COUNTS].reverse();
      for (const n of order) {
        const ds = await startWorkers(n);
        const cpu0 = ds.reduce((s, d) => s + treeCpuMs(d.child.pid!), 0);
        const ms = await burst(`${round}-${n}`);
        const cpu = ds.reduce((s, d) => s + treeCpuMs(d.child.pid!), 0) - cpu0;
        await stopWorkers(ds);
        got.get(n)!.ms.push(ms);
        got.get(n)!.cpu.push(cpu);
        process.stderr.write(`round ${round}, ${n} worker${n === 1 ? "" : "s"}: ${APPS} deployments in ${ms.toFixed(0)} ms, workers' CPU ${cpu.toFixed(0)} ms\n`);
      }
    }
  } catch (err) {
    // Printed before the clean-up, which may fail in its turn and hide it.
    console.error("throughput bench failed:", err);
    throw err;
  } finally {
    await Promise.all([...alive].map((d) => d.stop()));
    await h.close();
    await bed.stop();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  }
  const perMin = (n: number) => (APPS / median(got.get(n)!.ms)) * 60_000;
  const base = perMin(1);
  console.log(`throughput (${APPS} apps at once, ${ROUNDS} rounds alternated, medians; RAPTOR_CONCURRENCY=${process.env.RAPTOR_CONCURRENCY ?? "default"})`);
  for (const n of COUNTS) {
    const g = got.get(n)!;
    const cpuPer = median(g.cpu) / APPS;
    console.log(
      `  ${n} worker${n === 1 ? " " : "s"}  ${median(g.ms).toFixed(0)} ms for ${APPS}  ${perMin(n).toFixed(1)} deployments/min  x${(perMin(n) / base).toFixed(2)}  ` +
        `workers' CPU ${cpuPer.toFixed(0)} ms per deployment (${((100 * median(g.cpu)) / median(g.ms)).toFixed(0)}% of one core during the burst)`,
    );
  }
  const r2 = perMin(2) / base;
  console.log(`  1 -> 2 workers x${r2.toFixed(2)} (target >= 1.8) ${r2 >= 1.8 ? "ok" : "MISSED"}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
