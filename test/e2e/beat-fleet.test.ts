import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { beatRuns, builds, deploymentEvents, deployments, hosts as hostsTable, releases } from "../../db/schema/index.ts";
import { PORT_OWNERS_SCRIPT, portHolders } from "../../engine/beat/port-owners.ts";
import { runMaintenance } from "../../engine/beat/run.ts";
import { describeFinding, diagnose } from "../../engine/beat/diagnose.ts";
import { readFleetView } from "../../engine/beat/fleet-view.ts";
import { currentRelease } from "../../db/queries/releases.ts";
import { startBeat, type RunningBeat } from "../../engine/beat/schedule.ts";
import { eventStreamKey, parseStreamEntry } from "../../engine/events.ts";
import type { EngineEvent } from "../../engine/event-types.ts";

type BeatReportEvent = Extract<EngineEvent, { type: "beat.report" }>;
import { createSupervisor } from "../../runners/supervisor/xmlrpc-client.ts";
import type { ProcessInfo, Supervisor } from "../../runners/supervisor/types.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, memoryLogger, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

const PERIOD_S = 2;
const GRACE_S = 4;
/** Schedules in seconds, set in the test playbook like an operator would. */
/** The digest is posted by the test (for one tick, twice at once), not by its schedule: once a year. */
const BEAT_YAML = `beat:
  reconcile: "*/${PERIOD_S} * * * * *"
  hosts: "*/${PERIOD_S} * * * * *"
  orphans: { schedule: "*/${PERIOD_S} * * * * *", grace: ${GRACE_S}s }
  prune: { schedule: "*/${PERIOD_S} * * * * *", keep_builds: 1 }
  expire: "*/10 * * * * *"
  digest: { schedule: "0 0 1 1 *", channel: "#deploys" }
`;
/** hello prod's channels: repair threads go to the first, news of them to both. */
const CHANNELS = ["#hello", "#hello-ops"];
/**
 * From v2 on, the app runs under a shell loop that starts it again when it exits, as wrappers
 * (`npm start`, process loops) do: the launcher supervisord watches is not the process that
 * listens, so a crash can kill one and not the other.
 */
const LOOP_PROCFILE = "web: while true; do node server.js; sleep 1; done\n";

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The beat keeping a real fleet (three sshd + supervisord hosts) true to its swarms: a crashed
 * proc is restarted and routed again, a dead host's procs are replaced elsewhere and said once,
 * programs nobody owns are removed after the grace period and only those.
 */
describe("the beat on three ssh hosts: reconcile, hosts, orphans, prune, digest", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let beat: RunningBeat | undefined;
  let streamStart = "0-0";
  const log = memoryLogger();

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 3 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      logger: log,
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], { hello: { repo: repo.path, environments: { prod: bedEnv(3, "hello_prod", { uptest_timeout: "8s", channels: CHANNELS }) } } }),
        "beat.yaml": BEAT_YAML,
      },
    });
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    streamStart = (await h.engine.redis.xadd(eventStreamKey(h.engine.prefix), "*", "e", "{}"))!;
    beat = await startBeat(h.engine, { leaseMs: 3_000 });
  }, 180_000);
  afterAll(async () => {
    await beat?.close();
    await h?.close();
    await bed?.stop();
  });

  const supervisorOf = (host: string): Supervisor => {
    const t = bed.hosts.find((x) => x.name === host)!;
    return createSupervisor({ url: t.supervisorUrl, username: bed.supervisor.username, password: bed.supervisor.password });
  };
  const info = async (host: string, name: string): Promise<ProcessInfo | undefined> => (await supervisorOf(host).getAllProcessInfo()).find((i) => i.name === name);
  const live = () => liveProcRows(h, "hello", "prod");
  const pool = () => poolNodes(h, "lb", "hello_prod");
  /** host/name/state of every program on the given hosts (supervisorPrograms, minus hosts that are down). */
  const programsOn = async (hostNames: string[]) =>
    (await Promise.all(hostNames.map(async (host) => (await supervisorOf(host).getAllProcessInfo()).map((i) => `${host}/${i.name}/${i.statename}`)))).flat().sort();
  /** Beat messages since the beat started, to one channel (`#hello` unless told), or to all with "*". */
  const reports = async (origin = "slack:#hello"): Promise<BeatReportEvent[]> =>
    (await h.engine.redis.xrange(eventStreamKey(h.engine.prefix), streamStart, "+"))
      .map(([id, f]) => parseStreamEntry(id, f))
      .filter((e): e is BeatReportEvent => e?.type === "beat.report" && (origin === "*" || e.origin === origin));
  const repairs = () => h.engine.db.select().from(deployments).where(eq(deployments.kind, "repair"));
  /** The code hello prod runs now (its VERSION file). */
  let version = "v1";
  /** The fleet is as the swarm says: 3 procs running under supervisord, exactly the pool, answering. */
  async function healthy(upHosts = bed.hosts.map((x) => x.name)): Promise<boolean> {
    return (await unhealthy(upHosts)) === "";
  }
  /** Why the fleet is not as the swarm says, or "". */
  async function unhealthy(upHosts = bed.hosts.map((x) => x.name)): Promise<string> {
    const rows = await live();
    if (rows.length !== 3) return `${rows.length} live procs`;
    const programs = JSON.stringify(await programsOn(upHosts));
    if (programs !== JSON.stringify(runningProgramsOf(rows))) return `supervisord runs ${programs}, the rows say ${JSON.stringify(runningProgramsOf(rows))}`;
    if (JSON.stringify(await pool()) !== JSON.stringify(nodesOf(rows))) return `pool ${JSON.stringify(await pool())}`;
    const answers = await Promise.all(rows.map((p) => httpGet(p.host, p.port!)));
    return answers.every((a) => a.includes(`hello from ${version}`)) ? "" : `answers ${JSON.stringify(answers)}`;
  }

  /** What reconcile finds now, and who holds the ports (port-owners.ts), for a failure message. */
  async function diagnosis(): Promise<string> {
    try {
      const environment = h.engine.playbook.apps.hello!.environments.prod!;
      const serving = (await currentRelease(h.engine.db, "hello", "prod"))!;
      const view = await readFleetView(h.engine, environment, h.engine.playbook.squads.bed!, serving.id);
      const holders = [...(view.portHolders ?? new Map()).entries()].map(([host, m]) => `${host}: ${JSON.stringify([...m.entries()])}`);
      return `${JSON.stringify(diagnose(view).map(describeFinding))}; holders ${holders.join(" | ")}`;
    } catch (e) {
      return `(${(e as Error).message})`;
    }
  }
  /** What the beat did lately, for a failure message. */
  async function dump(): Promise<string> {
    const runs = (await h.engine.db.select().from(beatRuns)).sort((a, b) => b.id - a.id).slice(0, 12);
    const reps = await repairs();
    return [
      ...runs.map((r) => `${r.job} ${r.scheduledFor.toISOString()} ${r.outcome} ${JSON.stringify(r.detail)}`),
      ...reps.map((d) => `repair ${d.id} ${d.status} ${d.errorCode ?? ""} ${d.error ?? ""}`),
      `live: ${(await live()).map((p) => `${p.host}/${p.name}/${p.status}`).join(" ")}`,
      `reconcile would find: ${await diagnosis()}`,
      `pool: ${(await pool()).join(" ")}`,
      ...(await Promise.all(
        (await live()).map(async (p) => {
          try {
            const s = supervisorOf(p.host);
            const i = await info(p.host, p.name);
            const [tail] = await s.tailProcessStdoutLog(p.name, 0, 600);
            return `${p.host}/${p.name}: ${i?.statename} ${i?.spawnerr ?? ""}\n${tail}`;
          } catch (e) {
            return `${p.host}/${p.name}: ${(e as Error).message}`;
          }
        }),
      )),
    ].join("\n");
  }

  it("a healthy fleet: the jobs run every tick, find nothing to do, and say nothing", async () => {
    await until("4 reconcile runs", async () => (await h.engine.db.select().from(beatRuns).where(eq(beatRuns.job, "reconcile"))).length >= 4);
    const runs = (await h.engine.db.select().from(beatRuns)).filter((r) => r.finishedAt);
    expect(runs.filter((r) => r.outcome === "failed"), JSON.stringify(runs.filter((r) => r.outcome === "failed"))).toEqual([]);
    expect(new Set(runs.filter((r) => r.job !== "expire").map((r) => r.outcome))).toEqual(new Set(["idle"]));
    expect(await repairs()).toEqual([]);
    expect(await reports("*")).toEqual([]);
    const [host] = await h.engine.db.select().from(hostsTable).where(eq(hostsTable.name, bed.hosts[0]!.name));
    expect(host?.state).toBe("up");
    expect(host?.lastSeenAt).toBeInstanceOf(Date);
    const answer = await h.say("beat");
    // One time format (lib/time-text.ts): `2026-11-30 03:28 UTC (12s ago)`, `(in 18s)`.
    expect(answer.text).toMatch(/reconcile {2}`\*\/2 \* \* \* \* \*` {2}last \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\S+ ago\) idle(, running now)? {2}next \d{4}-\d\d-\d\d \d\d:\d\d UTC \((in \S+|\S+ ago)\)/);
    expect(answer.text).toMatch(/leader: beat /);
  }, 60_000);

  it("a proc SIGKILLed behind supervisord's back until it is FATAL is running and routed again within a reconcile period", async () => {
    // While the beat is stopped, crash one proc for good: kill it each time supervisord restarts it.
    await beat!.close();
    beat = undefined;
    const [victim] = await live();
    const name = victim!.name;
    const killed: number[] = [];
    await until(
      `${name} FATAL`,
      async () => {
        const i = await info(victim!.host, name);
        if (i?.statename === "FATAL") return true;
        if (i && i.pid > 0 && !killed.includes(i.pid)) {
          // The whole proc, as a crash takes it: supervisord starts each program in its own process
          // group, and the launcher's child (the app) would otherwise live on holding the port.
          process.kill(-i.pid, "SIGKILL");
          killed.push(i.pid);
        }
        return false;
      },
      30_000,
    );
    expect(killed.length).toBeGreaterThanOrEqual(2);
    const restarted = Date.now();
    beat = await startBeat(h.engine, { leaseMs: 3_000 });
    await until("the swarm healthy again", () => healthy(), 60_000);
    const tookMs = Date.now() - restarted;
    console.log(`crashed proc: running and routed again ${tookMs} ms after the beat started (reconcile every ${PERIOD_S}s)`);
    // Restarted in place (the same proc, not a replacement), by one repair deployment.
    expect((await live()).map((p) => p.name)).toContain(name);
    const done = await until("the repair to end", async () => {
      const r = await repairs();
      return r.every((d) => !["queued", "running"].includes(d.status)) && r;
    });
    expect(done.map((d) => d.status)).toEqual(["succeeded"]);
    expect(done[0]!.requestedBy).toBe("raptor");
    // Issue 11 item 13: raptor.log records the beat's repair (what it found) and the repair deployment's steps.
    expect(log.lines).toContainEqual(expect.objectContaining({ recovery: "beat.reconcile", detail: expect.objectContaining({ repairs: [expect.objectContaining({ deploymentId: done[0]!.id })] }) }));
    expect(log.lines).toContainEqual(expect.objectContaining({ deploymentId: done[0]!.id, event: "step.finished", step: "mend", durationMs: expect.any(Number) }));
    // Its thread is in the first channel; the other channel hears it start and end.
    const repair = done[0]!;
    expect(repair.origin).toBe("slack:#hello");
    const ops = await until("the repair's end told in #hello-ops", async () => {
      const r = (await reports("slack:#hello-ops")).map((e) => e.text);
      return r.length >= 2 && r;
    });
    expect(ops).toEqual([`repairing hello prod (${repair.id}): ${name} on ${victim!.host} is FATAL. Its thread is in #hello.`, `repair ${repair.id} of hello prod succeeded: it runs as its swarm says again.`]);
  }, 120_000);

  it("a program added by hand under Raptor's naming is removed after the grace period; one with another name is left alone", async () => {
    const host = bed.hosts[0]!;
    const port = bed.appPorts.to;
    const raptorNamed = `hello-prod-v9-web-${port}`;
    const conf = (name: string) => `[program:${name}]\ncommand=sleep 600\nautostart=false\nautorestart=false\n`;
    await writeFile(join(host.root, "supervisor", `${raptorNamed}.conf`), conf(raptorNamed));
    await writeFile(join(host.root, "supervisor", "handmade.conf"), conf("handmade"));
    const s = supervisorOf(host.name);
    const added = Date.now();
    await s.reloadConfig();
    for (const n of [raptorNamed, "handmade"]) {
      await s.addProcessGroup(n);
      await s.startProcess(n, true);
    }
    const before = (await reports()).length;
    await until(`${raptorNamed} removed and reported`, async () => !(await info(host.name, raptorNamed)) && (await reports()).length > before, 60_000);
    const tookMs = Date.now() - added;
    expect(tookMs).toBeGreaterThanOrEqual(GRACE_S * 1000);
    const handmade = await info(host.name, "handmade");
    const news = (await reports()).slice(before).map((e) => e.text);
    await s.stopProcess("handmade", true);
    await s.removeProcessGroup("handmade");
    expect(news, await dump()).toEqual([`removed 1 orphan program (named like a proc, but no proc of Raptor's): ${raptorNamed} on ${host.name}.`]);
    expect(handmade?.statename).toBe("RUNNING");
    expect(await unhealthy()).toBe("");
    console.log(`hand-added orphan removed ${tookMs} ms after it appeared (grace ${GRACE_S}s)`);
  }, 90_000);

  it("a host whose sshd and supervisord stop is marked down once, its procs replaced on the others and routed; back up, its stale procs go as orphans", async () => {
    const down = bed.hosts[2]!.name;
    const others = bed.hosts.filter((x) => x.name !== down).map((x) => x.name);
    const onDown = (await live()).filter((p) => p.host === down);
    expect(onDown.length).toBeGreaterThan(0);
    const before = (await reports()).length;
    const stopped = Date.now();
    await bed.stopSshd(down);
    await bed.stopSupervisord(down);

    await until("the host marked down", async () => (await h.engine.db.select().from(hostsTable).where(eq(hostsTable.name, down)))[0]?.state === "down");
    await until("its procs replaced on the other hosts", async () => (await live()).every((p) => p.host !== down) && healthy(others), 90_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await dump()}`);
    });
    const replacedMs = Date.now() - stopped;
    // A few more hosts ticks: the news is said once, not every tick.
    const n = (await h.engine.db.select().from(beatRuns).where(eq(beatRuns.job, "hosts"))).length;
    await until("3 more hosts runs", async () => (await h.engine.db.select().from(beatRuns).where(eq(beatRuns.job, "hosts"))).length >= n + 3);
    const downNews = (await reports()).slice(before).map((e) => e.text);
    expect(downNews, await dump()).toEqual([expect.stringMatching(new RegExp(`^host ${down.replace(/\./g, "\\.")} is down \\((ssh|supervisord): .*\\)\\. Its ${onDown.length} procs? will be replaced on the other hosts of bed`))]);
    const [row] = await h.engine.db.select().from(hostsTable).where(eq(hostsTable.name, down));
    // By now both have been found dead (the first check may have caught sshd alone).
    expect(row?.lastError).toMatch(/ssh: .*; supervisord: /);
    const hostsAnswer = await h.say("hosts");
    expect(hostsAnswer.text).toMatch(new RegExp(`${down.replace(/\./g, "\\.")}: .*down`));
    // As the README says: state, last seen and last error of the down host; an up host's last seen and ports too.
    expect(hostsAnswer.text).toMatch(new RegExp(`${down.replace(/\./g, "\\.")}: .*— down since .* UTC, last seen .* UTC \\(\\d+[sm] ago\\); last error: ssh: `));
    expect(hostsAnswer.text).toMatch(new RegExp(`${others[0]!.replace(/\./g, "\\.")}: \\d+ procs?; (no busy ports|busy ports|ports not checked yet).* — up since .* UTC, last seen .* UTC \\(\\d+[smh] ago\\)`));

    // Back up: supervisord reloads its old program files (autostart=false: they stay STOPPED).
    const backBefore = (await reports()).length;
    await bed.startSshd(down);
    await bed.startSupervisord(down);
    await until("the host marked up", async () => (await h.engine.db.select().from(hostsTable).where(eq(hostsTable.name, down)))[0]?.state === "up");
    // The orphans job says what it removed after the last removal (files go over SSH first):
    // the fleet can look healthy a moment before the news is out, so wait for both.
    await until("its stale procs removed as orphans, and said", async () => (await healthy()) && (await reports()).length >= backBefore + 2, 60_000);
    const backNews = (await reports()).slice(backBefore).map((e) => e.text);
    expect(backNews, await dump()).toHaveLength(2);
    expect(backNews[0]).toBe(`host ${down} is back up. Procs left on it from before are removed as orphans.`);
    expect(backNews.slice(1)).toEqual([expect.stringMatching(new RegExp(`^removed ${onDown.length} orphan programs? .*: ${onDown.map((p) => `${p.name} on ${down}`).join(", ")}\\.$`))]);
    const repairRows = await until("the repairs to end", async () => {
      const r = await repairs();
      return r.every((d) => !["queued", "running"].includes(d.status)) && r;
    });
    expect(repairRows.every((d) => d.status === "succeeded")).toBe(true);
    console.log(`host down: procs replaced and routed ${replacedMs} ms after sshd+supervisord stopped (hosts/reconcile every ${PERIOD_S}s)`);
  }, 240_000);

  /** Whether `pid` runs (a zombie does not; this machine's init does not reap them). */
  const running = (pid: number) => {
    try {
      return !execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim().startsWith("Z");
    } catch {
      return false;
    }
  };
  /** The build ids whose tarballs each host's builds/ holds, sorted. */
  const hostTarballs = async () =>
    Object.fromEntries(
      await Promise.all(
        bed.hosts.map(async (x) => [x.name, (await readdir(join(x.root, "builds")).catch(() => [] as string[])).filter((f) => f.endsWith(".tar.gz")).map((f) => f.slice(0, -".tar.gz".length)).sort()] as const),
      ),
    );
  const buildOfRelease = async (n: number) => {
    const [r] = await h.engine.db.select().from(releases).where(and(eq(releases.app, "hello"), eq(releases.env, "prod"), eq(releases.number, n)));
    const [b] = await h.engine.db.select().from(builds).where(eq(builds.id, r!.buildId));
    return b!;
  };

  it("prune (keep_builds 1) keeps what rollback needs and deletes the rest from the build store and every host; rollback to a pruned release says so", async () => {
    // A proc directory a teardown could not reach (its proc is gone), and one Raptor did not make.
    const host0 = bed.hosts[0]!;
    const goneDir = join(host0.root, "procs", `hello-prod-v1-web-${bed.appPorts.to - 1}`);
    await mkdir(goneDir, { recursive: true });
    await writeFile(join(goneDir, "server.js"), "// left behind\n");
    await mkdir(join(host0.root, "procs", "handmade"), { recursive: true });

    const b1 = await buildOfRelease(1);
    await repo.commit({ VERSION: "v2\n", Procfile: LOOP_PROCFILE }, "v2: runs under a shell loop");
    expect((await h.say("deploy hello prod")).final?.type).toBe("deployment.succeeded");
    // Said at once, not after the rollback below: a failure in between must not leave the next
    // tests waiting for "hello from v1" from a fleet that answers v2 (it did, in a CI run).
    version = "v2";
    // v3: v2's build with other config (no build): v2 becomes what a bare rollback goes to, v1 nothing.
    expect((await h.say("config set hello prod GREETING=hi")).final?.type).toBe("deployment.succeeded");
    const b2 = await buildOfRelease(2);
    expect((await buildOfRelease(3)).id).toBe(b2.id);
    const onHostsBefore = await hostTarballs();
    expect(Object.values(onHostsBefore).flat()).toContain(b1.id);

    // Kept: b2 (newest, live, what a bare `rollback` goes to). Pruned: b1, everywhere.
    const pruneRuns = async () => (await h.engine.db.select().from(beatRuns).where(and(eq(beatRuns.job, "prune"), eq(beatRuns.outcome, "done")))).map((r) => r.detail);
    await until("b1 pruned from the store and every host, and the gone proc's dir removed", async () => {
      const [row] = await h.engine.db.select().from(builds).where(eq(builds.id, b1.id));
      const recorded = (await pruneRuns()).some((d) => (d.pruned as string[]).includes(b1.id));
      return recorded && row?.prunedAt && !existsSync(b1.path!) && !Object.values(await hostTarballs()).flat().includes(b1.id) && !existsSync(goneDir);
    }, 30_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await dump()}`);
    });
    const onHostsAfter = await hostTarballs();
    for (const [host, ids] of Object.entries(onHostsBefore)) expect(onHostsAfter[host], host).toEqual(ids.filter((id) => id !== b1.id));
    expect(existsSync(b2.path!)).toBe(true);
    expect((await h.engine.db.select().from(builds).where(eq(builds.id, b2.id)))[0]!.prunedAt).toBeNull();
    expect(existsSync(join(host0.root, "procs", "handmade"))).toBe(true);
    const done = await pruneRuns();
    expect(done.filter((d) => (d.pruned as string[]).length > 0)).toEqual([expect.objectContaining({ pruned: [b1.id], storeRemoved: 1 })]);
    // Which runs removed what, when, beside what the orphans job removed: for a failure message.
    const acting = async () =>
      (await h.engine.db.select().from(beatRuns))
        .filter((r) => (r.job === "prune" && (r.detail.procDirsRemoved as string[] | undefined)?.length) || (r.job === "orphans" && (r.detail.removed as unknown[] | undefined)?.length))
        .map((r) => `${r.job} ${r.scheduledFor.toISOString()} ${r.startedAt.toISOString()}..${r.finishedAt?.toISOString()} ${JSON.stringify(r.detail)}`)
        .join("\n");
    expect(done.flatMap((d) => d.procDirsRemoved as string[]), await acting()).toEqual([`${basename(goneDir)} on ${host0.name}`]);

    // v1's build is gone: the refusal says so and what to do. Nothing is queued.
    const before = (await h.engine.db.select().from(deployments)).length;
    const refused = await h.say("rollback hello prod v1");
    expect(refused.reply.kind).not.toBe("deployment");
    expect(refused.text).toContain(
      `cannot roll hello prod back to v1: its build (commit ${b1.commit.slice(0, 7)}) was pruned on ${new Date().toISOString().slice(0, 10)} by the beat's prune job, which keeps only recent builds and rollback targets. Deploy that commit again to build it anew: \`deploy hello prod ${b1.commit.slice(0, 7)}\`.`,
    );
    expect((await h.engine.db.select().from(deployments)).length).toBe(before);

    // What rollback needs was kept: a bare rollback goes back to v2 (without GREETING) and serves it.
    const back = await h.say("rollback hello prod");
    expect(back.final?.type, back.text).toBe("deployment.succeeded");
    expect(await unhealthy()).toBe("");
  }, 180_000);

  it("a launcher killed alone leaves its app holding the port: reconcile ends the leftover and restarts the proc, which then answers itself", async () => {
    const [victim] = await live();
    const launcher = (await info(victim!.host, victim!.name))!.pid;
    const owner = () => portHolders(execFileSync("sh", ["-c", PORT_OWNERS_SCRIPT], { encoding: "utf8" }), victim!.host, []).get(victim!.port!);
    const app = owner()!;
    expect(app.pid).not.toBe(launcher); // the loop's child listens, not the launcher
    const repairsBefore = (await repairs()).length;
    process.kill(launcher, "SIGKILL");
    // supervisord starts the launcher again; its app cannot bind, the leftover answers for it.
    await until("the launcher RUNNING again", async () => {
      const i = await info(victim!.host, victim!.name);
      return i?.statename === "RUNNING" && i.pid !== launcher;
    });
    const killedAt = Date.now();
    await until("the leftover ended and the port held by the proc's own program", async () => {
      const i = await info(victim!.host, victim!.name);
      const now = portHolders(execFileSync("sh", ["-c", PORT_OWNERS_SCRIPT], { encoding: "utf8" }), victim!.host, [{ name: victim!.name, pid: i?.pid ?? 0 }]).get(victim!.port!);
      return !running(app.pid) && now?.program === victim!.name && (await healthy());
    }, 60_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await dump()}`);
    });
    console.log(`launcher killed alone: leftover ended and proc restarted ${Date.now() - killedAt} ms after the launcher came back (reconcile every ${PERIOD_S}s)`);
    const done = await until("the repair to end", async () => {
      const r = (await repairs()).slice(repairsBefore);
      return r.length > 0 && r.every((d) => !["queued", "running"].includes(d.status)) && r;
    });
    const found = (await h.engine.db.select().from(beatRuns).where(and(eq(beatRuns.job, "reconcile"), eq(beatRuns.outcome, "done")))).map((r) => JSON.stringify(r.detail.repairs));
    expect(done.map((d) => d.status), found.join("\n")).toEqual(["succeeded"]);
    const said = (await h.engine.db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, done[0]!.id))).map((e) => JSON.stringify(e.data));
    expect(said.join("\n")).toContain(`ended pid ${app.pid}`);
  }, 120_000);

  it("the digest of the day posts once per channel, with the deployments, failures, repairs and drift", async () => {
    const failed = await h.say("deploy hello prod no-such-branch");
    expect(failed.final?.type, failed.text).toBe("deployment.failed");
    const failedId = (failed.reply as { deploymentId: string }).deploymentId;
    const tick = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    await until("the tick's time", async () => Date.now() >= tick.getTime(), 5_000);
    // Two workers get the same tick at once: it runs once.
    const runs = await Promise.all([runMaintenance(h.engine, { job: "digest", scheduledFor: tick.toISOString() }), runMaintenance(h.engine, { job: "digest", scheduledFor: tick.toISOString() })]);
    expect(runs.map((r) => r.ran).sort()).toEqual([false, true]);
    const posted = (await reports("*")).filter((e) => e.job === "digest");
    expect(posted.map((e) => e.origin).sort()).toEqual(["slack:#deploys", "slack:#hello", "slack:#hello-ops"]);
    const all = posted.find((e) => e.origin === "slack:#deploys")!.text;
    const repairCount = (await repairs()).length;
    const lines = all.split("\n");
    expect(lines[0]).toBe(`digest of the day to ${tick.toISOString().slice(0, 16).replace("T", " ")} UTC:`);
    // deploy v1, deploy v2, the config change, the rollback to v2 and the failed deploy; the repairs
    // the beat made. Counted from the rows, so a test above that stopped early is not failed here too.
    const asked = (await h.engine.db.select().from(deployments)).filter((d) => d.kind !== "repair");
    const succeeded = asked.filter((d) => d.status === "succeeded").length;
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(lines[1]).toMatch(new RegExp(`^hello prod: ${asked.length} deployments \\(${succeeded} succeeded, ${asked.length - succeeded} failed\\), ${repairCount} repairs, drift: \\d+$`));
    expect(lines[2]).toBe(`  failed: ${failedId} deploy (ref_not_found)`);
    // The FATAL proc, the leftover on a port, the hand-made orphan and the down host's stale procs.
    expect(lines[3]).toMatch(/^  drift: crashed \d+, .*port held by another process \d+, orphan programs removed \d+$/);
    const orphansRemoved = (await h.engine.db.select().from(beatRuns).where(eq(beatRuns.job, "orphans"))).flatMap((r) => (r.detail.removed as unknown[] | undefined) ?? []).length;
    expect(lines[3]).toContain(`orphan programs removed ${orphansRemoved}`);
    expect(orphansRemoved).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toBe(`hosts: ${bed.hosts[2]!.name} down, ${bed.hosts[2]!.name} up`);
    // The environment's channels get their environment's lines, not the fleet's hosts.
    for (const c of CHANNELS) expect(posted.find((e) => e.origin === `slack:${c}`)!.text).toBe(lines.slice(0, -1).join("\n"));
  }, 60_000);
});
