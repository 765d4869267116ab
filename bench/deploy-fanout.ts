/**
 * bench/deploy-fanout: how deploy time grows with the number of procs and hosts, and what a
 * reused build saves. Real everything: three ssh+supervisord hosts on loopback, Postgres, Redis.
 *
 * Each round commits a new version, then times (a) a cold deploy of 1 proc on 1 host, (b) a cold
 * deploy of 12 procs on 3 hosts, (c) a redeploy of (b)'s commit (build reused; nothing changed, so
 * no new release and no proc restarts), and (d) the same commit to a second environment (build
 * reused, but 12 new procs started and uptested): (d) shows what build reuse alone saves.
 * Ratios are of medians measured in this same run, so a slow or busy machine shifts both sides
 * alike. Targets: b/a <= 1.5 and c/b <= 0.5.
 */
import postgres from "postgres";
import { makeAppRepo, HELLO_APP } from "../test/support/app-repo.ts";
import { startHarness } from "../test/support/raptor-harness.ts";
import { startTestbed } from "../test/support/testbed.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PG = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const dbName = `raptor_bench_${Date.now().toString(36)}`;
  const admin = postgres(PG, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(PG);
  url.pathname = `/${dbName}`;
  const bed = await startTestbed({ hosts: 3 });
  const repo = await makeAppRepo(HELLO_APP, { VERSION: "v0\n" });
  const squads = bed.squadYaml("three");
  const one = squads.replace(/hosts: \[[^\]]*\]/, `hosts: [${JSON.stringify(bed.hosts[0]!.name)}]`).replace("  three:", "  one:");
  const env = (squad: string, size: number) => `{ squad: ${squad}, size: { web: ${size} }, balancer: lb, pool: p_${squad}, uptest_timeout: 20s }`;
  const h = await startHarness({
    databaseUrl: url.toString(),
    workers: 1,
    playbookYaml: {
      "pb.yaml": [
        "squads:",
        squads,
        one,
        "balancers:",
        "  lb: { kind: memory }",
        "apps:",
        "  solo:",
        `    repo: ${JSON.stringify(repo.path)}`,
        `    environments: { bench: ${env("one", 1)} }`,
        "  fleet:",
        `    repo: ${JSON.stringify(repo.path)}`,
        `    environments: { bench: ${env("three", 12)}, other: ${env("three", 12).replace("p_three", "p_other")} }`,
      ].join("\n"),
    },
  });
  const timed = async (text: string) => {
    const t0 = performance.now();
    const r = await h.say(text);
    const ms = performance.now() - t0;
    if (r.final?.type !== "deployment.succeeded") throw new Error(`${text} did not succeed:\n${r.text}`);
    return ms;
  };
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const d: number[] = [];
  try {
    // Warm-up: clone the mirror and let node and the hosts settle; not measured.
    await timed("deploy solo bench");
    for (let i = 1; i <= ROUNDS; i++) {
      await repo.commit({ VERSION: `v${i}\n` }, `round ${i}`);
      a.push(await timed("deploy solo bench"));
      b.push(await timed("deploy fleet bench"));
      c.push(await timed("deploy fleet bench"));
      d.push(await timed("deploy fleet other"));
      process.stderr.write(`round ${i}: 1x1 ${a.at(-1)!.toFixed(0)} ms, 12x3 ${b.at(-1)!.toFixed(0)} ms, redeploy ${c.at(-1)!.toFixed(0)} ms, other env ${d.at(-1)!.toFixed(0)} ms\n`);
    }
  } finally {
    await h.close();
    await bed.stop();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  }
  const [ma, mb, mc, md] = [median(a), median(b), median(c), median(d)];
  const fan = mb / ma;
  const reuse = mc / mb;
  console.log(`deploy-fanout (${ROUNDS} rounds, medians)`);
  console.log(`  1 proc on 1 host (cold build)      ${ma.toFixed(0)} ms`);
  console.log(`  12 procs on 3 hosts (cold build)   ${mb.toFixed(0)} ms`);
  console.log(`  redeploy of the same commit        ${mc.toFixed(0)} ms  (build reused, release unchanged: procs kept)`);
  console.log(`  same commit to another environment ${md.toFixed(0)} ms  (build reused, 12 new procs)`);
  console.log(`  fan-out ratio 12x3 / 1x1           ${fan.toFixed(2)}  (target <= 1.5) ${fan <= 1.5 ? "ok" : "MISSED"}`);
  console.log(`  reuse ratio redeploy / cold        ${reuse.toFixed(2)}  (target <= 0.5) ${reuse <= 0.5 ? "ok" : "MISSED"}`);
  console.log(`  build-only saving other env / cold ${(md / mb).toFixed(2)}  (informational)`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
