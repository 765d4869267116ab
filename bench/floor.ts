/**
 * bench/floor: Raptor against a hand-run script doing the same work (issue 14). Same test bed
 * (three ssh+supervisord hosts on loopback), same build already on the hosts, rounds alternated:
 * Raptor deploys with `config set` (a new release of the built code: new procs started, uptested,
 * put in the pool, the old ones removed), the script (bench/floor-script.ts) does the same with
 * plain ssh2, SFTP and XML-RPC on its own proc names and ports. Two shapes: 1 proc on 1 host and
 * 12 procs on 3 hosts. Medians of each.
 *
 * Targets: Raptor <= 0.9x the script; Raptor's overhead (its time minus the script's) < 100 ms
 * per deployment and < 10 ms per extra proc ((overhead 12 - overhead 1) / 11).
 */
import { eq } from "drizzle-orm";
import postgres from "postgres";
import { builds, releases } from "../db/schema/index.ts";
import { makeAppRepo, HELLO_APP } from "../test/support/app-repo.ts";
import { startHarness } from "../test/support/raptor-harness.ts";
import { startTestbed } from "../test/support/testbed.ts";
import { scriptDeploy, type ScriptProc } from "./floor-script.ts";
import { procIdentity } from "../runners/proc-user.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
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
  // Raptor leases the lower half of the bed's ports; the script uses the upper half.
  const half = bed.appPorts.from + 49;
  const squads = bed.squadYaml("three", { ports: `${bed.appPorts.from}-${half}` });
  const one = bed.squadYaml("one", { ports: `${bed.appPorts.from}-${half}`, hosts: [bed.hosts[0]!.name] });
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
        `    environments: { bench: ${env("three", 12)} }`,
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

  const results = { raptor1: [] as number[], script1: [] as number[], raptor12: [] as number[], script12: [] as number[] };
  const live: Record<"1" | "12", ScriptProc[]> = { "1": [], "12": [] };
  try {
    // Warm-up, not measured: the build, the hosts' copies of it, node's JIT on both sides.
    await timed("deploy solo bench");
    await timed("deploy fleet bench");
    const [rel] = await h.engine.db.select().from(releases).where(eq(releases.app, "solo")).limit(1);
    const [build] = await h.engine.db.select().from(builds).where(eq(builds.id, rel!.buildId));
    const procfile = build!.procfile as Record<string, string>;
    const plan = (shape: "1" | "12", round: number) => {
      const hosts = shape === "1" ? [bed.hosts[0]!] : bed.hosts;
      const count = shape === "1" ? 1 : 12;
      // Two port sets per shape, alternated: the old procs hold one while the new start on the other.
      const base = half + 1 + (shape === "1" ? 0 : 2) + (round % 2) * (shape === "1" ? 1 : 24);
      const procs = Array.from({ length: count }, (_, i) => {
        const port = base + (shape === "1" ? 0 : 2 + i);
        return { host: hosts[i % hosts.length]!.name, port, name: `floorscript_${shape}_${round}_${port}` };
      });
      return {
        hosts: bed.hosts,
        ssh: { user: bed.user, keyPath: bed.sshKeyPath },
        supervisor: bed.supervisor,
        build: { id: build!.id, md5: build!.md5!, localPath: build!.path! },
        cmd: procfile.web!,
        env: { ROUND: String(round) },
        // The user Raptor made for app solo at its warm-up deploy: the script runs procs as Raptor does.
        user: procIdentity({}, "solo").user,
        procs,
        old: live[shape],
        redis: h.engine.redis,
        poolKey: `${h.engine.prefix}floor-script:${shape}`,
      };
    };
    const script = async (shape: "1" | "12", round: number) => {
      const p = plan(shape, round);
      const t0 = performance.now();
      await scriptDeploy(p);
      const ms = performance.now() - t0;
      live[shape] = p.procs;
      return ms;
    };
    await script("1", 0);
    await script("12", 0);
    for (let i = 1; i <= ROUNDS; i++) {
      // Alternate who goes first, so drift in the machine's load falls on both sides alike.
      const order = i % 2 ? (["raptor", "script"] as const) : (["script", "raptor"] as const);
      for (const who of order) {
        if (who === "raptor") {
          results.raptor1.push(await timed(`config set solo bench ROUND=${i}`));
          results.raptor12.push(await timed(`config set fleet bench ROUND=${i}`));
        } else {
          results.script1.push(await script("1", i));
          results.script12.push(await script("12", i));
        }
      }
      process.stderr.write(
        `round ${i}: 1 proc raptor ${results.raptor1.at(-1)!.toFixed(0)} ms script ${results.script1.at(-1)!.toFixed(0)} ms; ` +
          `12 procs raptor ${results.raptor12.at(-1)!.toFixed(0)} ms script ${results.script12.at(-1)!.toFixed(0)} ms\n`,
      );
    }
  } finally {
    await h.close();
    await bed.stop();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  }
  const r1 = median(results.raptor1);
  const s1 = median(results.script1);
  const r12 = median(results.raptor12);
  const s12 = median(results.script12);
  const over1 = r1 - s1;
  const over12 = r12 - s12;
  const perProc = (over12 - over1) / 11;
  const mark = (ok: boolean) => (ok ? "ok" : "MISSED");
  console.log(`floor (${ROUNDS} rounds alternated, medians; startsecs=1 on both sides)`);
  console.log(`  1 proc on 1 host     Raptor ${r1.toFixed(0)} ms   script ${s1.toFixed(0)} ms   ratio ${(r1 / s1).toFixed(2)} (target <= 0.9) ${mark(r1 / s1 <= 0.9)}`);
  console.log(`  12 procs on 3 hosts  Raptor ${r12.toFixed(0)} ms   script ${s12.toFixed(0)} ms   ratio ${(r12 / s12).toFixed(2)} (target <= 0.9) ${mark(r12 / s12 <= 0.9)}`);
  console.log(`  overhead per deployment (1 proc)  ${over1.toFixed(0)} ms (target < 100) ${mark(over1 < 100)}`);
  console.log(`  overhead per extra proc           ${perProc.toFixed(1)} ms (target < 10) ${mark(perProc < 10)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
