import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { Redis } from "ioredis";
import { procs, uptestResults } from "../../db/schema/index.ts";
import { balancerFor } from "../../balancers/registry.ts";
import { followDeployment } from "../../engine/events.ts";
import type { EngineEvent } from "../../engine/event-types.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms, supervisorPrograms } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, REDIS_URL, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { createMetrics } from "../../engine/metrics.ts";
import { checkHealth, observabilityRoutes, serveObservability } from "../../engine/observe.ts";

/** One testbed of three hosts for the whole file: deploys build on each other, in order. */
describe("deploy pipeline on three ssh hosts", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let duo: AppRepo;
  /** The rollback that cut v4, which later scales and restarts only touch. */
  let rollbackId = "";
  const metrics = createMetrics();

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 3 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    // A proc type with a dash: the grammar, the playbook, the Procfile and the layout all take it.
    duo = await makeAppRepo(HELLO_APP, { VERSION: "duo\n", Procfile: "web: node server.js\nweb-api: node -e \"setInterval(() => {}, 1000)\"\n" });
    // solo: the first host alone, so a restart there cannot lean on another host.
    const solo = bed.squadYaml("solo").replace(/hosts: \[.*\]/, `hosts: [${JSON.stringify(bed.hosts[0]!.name)}]`);
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed"), solo], {
          hello: {
            repo: repo.path,
            environments: {
              prod: bedEnv(4, "hello_prod", { uptest_timeout: "6s", env: { GREETING: "hi" } }),
              solo: bedEnv(2, "hello_solo", {
                squad: "solo",
                uptest_timeout: "3s",
                env: { GREETING: "hi-solo" },
                release_hook: ["sh", "-c", 'echo "hook sees $GREETING on port $PORT"'],
              }),
            },
          },
          duo: { repo: duo.path, environments: { prod: bedEnv(1, "duo_prod", { size: { web: 1, "web-api": 1 } }) } },
        }),
      },
    });
    // The worker's registry, as `raptor worker` has one (engine/metrics.ts); scraped by the last test.
    h.engine.metrics = metrics;
    metrics.watchQueues(h.engine.queues);
    metrics.watchHosts(h.engine.db);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  const live = (env = "prod") => liveProcRows(h, "hello", env);
  const pool = (name = "hello_prod") => poolNodes(h, "lb", name);
  /** Samples a pool every 10 ms while `work` runs (no event says "pool changed"). */
  async function sampledPool<T>(name: string, work: () => Promise<T>): Promise<{ value: T; samples: string[][] }> {
    const samples: string[][] = [];
    let done = false;
    const sampling = (async () => {
      while (!done) {
        samples.push(await pool(name));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      return { value: await work(), samples };
    } finally {
      done = true;
      await sampling;
    }
  }
  /** What supervisord runs, as host/name, must be exactly the live rows: no orphans either way. */
  async function expectSupervisorMatchesDb(): Promise<void> {
    const rows = await live();
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(rows));
  }
  const at = (events: EngineEvent[], pred: (e: EngineEvent) => boolean) => {
    const i = events.findIndex(pred);
    expect(i, `event not found in ${events.map((e) => e.type + ("step" in e ? `:${e.step}` : "")).join(", ")}`).toBeGreaterThanOrEqual(0);
    return i;
  };

  it("deploys v1 as 4 procs spread over 3 hosts, each answering with v1 and routed", async () => {
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    expect(r.text).toMatch(/resolve .*main → [0-9a-f]{7}/);
    const rows = await live();
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((p) => p.host)).size).toBe(3);
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
    expect(await pool()).toEqual(nodesOf(rows));
    expect((await supervisedPrograms(bed)).filter((n) => n.endsWith("/RUNNING"))).toHaveLength(4);
  });

  it("deploys v2: new procs are up and uptested while v1 still serves, then v1 goes", async () => {
    const v1 = await live();
    const v1Nodes = nodesOf(v1);
    await repo.commit({ VERSION: "v2\n" }, "v2");
    const reply = await h.say("deploy hello prod", { follow: false });
    expect(reply.reply.kind).toBe("deployment");
    if (reply.reply.kind !== "deployment") return;
    const id = reply.reply.deploymentId;

    // While v2's uptest runs, the v1 procs must still answer v1 and still be the pool.
    let duringUptest: { answers: string[]; pool: string[] } | undefined;
    const tap = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const watching = followDeployment(
      tap,
      h.engine.prefix,
      id,
      async (e) => {
        if (e.type === "step.started" && e.step === "uptest") {
          duringUptest = { answers: await Promise.all(v1.map((p) => httpGet(p.host, p.port!))), pool: await pool() };
        }
      },
      { from: reply.reply.since },
    );
    // The pool is sampled throughout (no event says "pool changed"): it must never hold fewer nodes
    // than the swarm's size, whatever moment a request arrives.
    const samples: string[][] = [];
    let done = false;
    const sampling = (async () => {
      while (!done) {
        samples.push(await pool());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const r = await h.follow(id, reply.reply.since);
    done = true;
    await Promise.all([sampling, watching]);
    tap.disconnect();

    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    expect(duringUptest?.answers.every((a) => a.includes("hello from v1")), JSON.stringify(duringUptest)).toBe(true);
    expect(duringUptest?.pool).toEqual(v1Nodes);

    // Order of the steps as the events tell it: uptest passed before routing, routing before teardown.
    const ev = r.events;
    const uptestDone = at(ev, (e) => e.type === "step.finished" && e.step === "uptest");
    const routeStart = at(ev, (e) => e.type === "step.started" && e.step === "route");
    const teardownStart = at(ev, (e) => e.type === "step.started" && e.step === "teardown");
    expect(uptestDone).toBeLessThan(routeStart);
    expect(routeStart).toBeLessThan(teardownStart);

    // And as the database tells it: every v1 proc was removed after the last v2 uptest was recorded.
    const results = await h.engine.db.select().from(uptestResults).where(eq(uptestResults.deploymentId, id));
    expect(results.length).toBe(4);
    expect(results.every((x) => x.passed)).toBe(true);
    const v1Gone = await h.engine.db.select().from(procs).where(eq(procs.app, "hello"));
    const lastUptest = Math.max(...results.map((x) => x.createdAt.getTime()));
    for (const p of v1Gone.filter((x) => v1.some((o) => o.id === x.id))) {
      expect(p.removedAt, p.name).not.toBeNull();
      expect(p.removedAt!.getTime()).toBeGreaterThanOrEqual(lastUptest);
    }

    const v2 = await live();
    expect(v2).toHaveLength(4);
    expect(v2.every((p) => p.deploymentId === id)).toBe(true);
    expect(new Set(v2.map((p) => p.host)).size).toBe(3);
    for (const p of v2) expect(await httpGet(p.host, p.port!)).toContain("hello from v2");
    expect(await pool()).toEqual(nodesOf(v2));
    for (const s of samples) expect(s.length, `pool sample ${s.join(",")}`).toBeGreaterThanOrEqual(4);
    expect(samples.length).toBeGreaterThan(0);
    // supervisord knows no v1 program any more, and runs exactly the v2 procs.
    const names = (await supervisorPrograms(bed)).map((i) => i.name);
    expect(names.filter((n) => n.includes("-v1-"))).toEqual([]);
    await expectSupervisorMatchesDb();
    for (const p of v1) expect(await httpGet(p.host, p.port!)).toMatch(/^error:/);
  }, 60_000);

  it("a commit whose uptest fails: the deployment fails with the uptest's output, v2 keeps serving", async () => {
    const v2 = await live();
    await repo.commit(
      {
        VERSION: "v3\n",
        "uptests/web/http": "#!/bin/sh\necho \"widget check failed on $1:$2: the widgets are gone\" >&2\nexit 1\n",
      },
      "v3 with a broken uptest",
    );
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.failed");
    expect(r.final?.type === "deployment.failed" && r.final.step).toBe("uptest");
    expect(r.text).toContain("the widgets are gone");
    expect(r.text).toMatch(/uptest_failed/);
    expect(r.text).toMatch(/removed 4 new procs/);
    // Trial 2, M4: the verdict says the old release still serves (it did; the summary did not say so).
    const serving = Number(/▶ v(\d+)/.exec((await h.say("releases hello prod")).text)![1]);
    expect(r.text).toMatch(new RegExp(`failed at uptest .*\\(uptest_failed\\): .* v${serving} still serves\\.`));

    // The failed procs are gone from the database and from every supervisord; v2 is untouched.
    const after = await live();
    expect(after.map((p) => p.id).sort()).toEqual(v2.map((p) => p.id).sort());
    const failedRows = await h.engine.db.select().from(procs).where(eq(procs.deploymentId, r.reply.kind === "deployment" ? r.reply.deploymentId : ""));
    expect(failedRows).toHaveLength(4);
    expect(failedRows.every((p) => p.removedAt !== null)).toBe(true);
    expect((await supervisorPrograms(bed)).filter((i) => i.name.includes("-v3-"))).toEqual([]);
    await expectSupervisorMatchesDb();
    for (const p of after) expect(await httpGet(p.host, p.port!)).toContain("hello from v2");
    expect(await pool()).toEqual(nodesOf(v2));
  }, 60_000);

  it("rolls back to v1's build as a new release number", async () => {
    const r = await h.say("rollback hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    // v1, v2, the failed v3, so the rollback is v4 (and says what it went back to).
    expect(r.final?.type === "deployment.succeeded" && r.final.release).toBe(4);
    expect(r.text).toContain("rollback to v1");
    const rows = await live();
    expect(rows).toHaveLength(4);
    for (const p of rows) {
      expect(p.name).toContain("-v4-");
      expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
    }
    expect(await pool()).toEqual(nodesOf(rows));
    await expectSupervisorMatchesDb();
    const releases = await h.say("releases hello prod");
    expect(releases.text).toMatch(/▶ v4 .*rollback to v1/);
    rollbackId = (r.reply as { deploymentId: string }).deploymentId;
  }, 60_000);

  it("scales up to 6 and down to 2: counts on hosts, pool and supervisord follow", async () => {
    const up = await h.say("scale hello prod web=6");
    expect(up.final?.type, up.text).toBe("deployment.succeeded");
    let rows = await live();
    expect(rows).toHaveLength(6);
    const perHost = (list: typeof rows) => bed.hosts.map((b) => list.filter((p) => p.host === b.name).length);
    expect(perHost(rows)).toEqual([2, 2, 2]);
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
    expect(await pool()).toEqual(nodesOf(rows));
    await expectSupervisorMatchesDb();

    const before = rows;
    const down = await h.say("scale hello prod web=2");
    expect(down.final?.type, down.text).toBe("deployment.succeeded");
    rows = await live();
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((p) => p.host)).size).toBe(2);
    // Survivors are procs that were already serving: scale down starts nothing new.
    expect(rows.every((p) => before.some((b) => b.id === p.id))).toBe(true);
    expect(await pool()).toEqual(nodesOf(rows));
    await expectSupervisorMatchesDb();
    const gone = before.filter((b) => !rows.some((p) => p.id === b.id));
    expect(gone).toHaveLength(4);
    // Names are per host (the same port on two hosts gives the same name): compare host/name.
    const names = (await supervisorPrograms(bed)).map((i) => `${i.host}/${i.name}`);
    for (const g of gone) {
      expect(names).not.toContain(`${g.host}/${g.name}`);
      expect(await httpGet(g.host, g.port!)).toMatch(/^error:/);
    }
    // Issue 13 (trial): `releases` named the last deployment that touched v4 (this scale), not the one that cut it.
    const v4 = (await h.say("releases hello prod")).text.split("\n").find((l) => l.startsWith("▶ v4"));
    expect(v4).toContain(`: rollback to v1;`);
    expect(v4).toMatch(new RegExp(`— serving \\(${rollbackId}\\)$`));
    expect(v4).not.toContain((down.reply as { deploymentId: string }).deploymentId);
  }, 60_000);

  it("restarts every proc: new pids and start times, still answering, pool intact", async () => {
    const before = new Map((await supervisorPrograms(bed)).map((i) => [i.name, i]));
    const rows = await live();
    const poolBefore = await pool();
    const { value: r, samples } = await sampledPool("hello_prod", () => h.say("restart hello prod"));
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    // Two procs on two hosts: one node at a time is out, never both.
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s.length, `pool sample ${s.join(",")}`).toBeGreaterThanOrEqual(poolBefore.length - 1);
    const after = new Map((await supervisorPrograms(bed)).map((i) => [i.name, i]));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, info] of after) {
      const old = before.get(name)!;
      expect(info.statename).toBe("RUNNING");
      expect(info.pid, name).not.toBe(old.pid);
      expect(info.start, name).toBeGreaterThanOrEqual(old.start);
      expect(info.pid === old.pid && info.start === old.start).toBe(false);
    }
    expect((await live()).map((p) => p.id).sort()).toEqual(rows.map((p) => p.id).sort());
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
    expect(await pool()).toEqual(poolBefore);
  }, 60_000);

  it("config set changes the env procs see, and config shows it as set (not a secret)", async () => {
    const rows = await live();
    for (const p of rows) expect(await httpGet(p.host, p.port!, "/env/GREETING")).toBe("hi");
    const r = await h.say("config set hello prod GREETING=howdy");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    expect(r.text).toContain("GREETING=howdy");
    expect(r.text).not.toContain("[REDACTED]");
    const now = await live();
    expect(now).toHaveLength(2); // the scaled size holds across a config release
    expect(new Set(now.map((p) => p.host)).size).toBe(2); // and the new swarm is spread
    for (const p of now) {
      expect(await httpGet(p.host, p.port!, "/env/GREETING")).toBe("howdy");
      expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
    }
    expect(await pool()).toEqual(nodesOf(now));
    await expectSupervisorMatchesDb();
    const shown = await h.say("config hello prod");
    expect(shown.text).toContain("GREETING=howdy");
  }, 60_000);

  it("restarts a one-host squad one proc at a time: the pool is never empty", async () => {
    // main's head has the broken uptest (v3); the first commit is v1.
    const dep = await h.say(`deploy hello solo ${repo.initial}`);
    expect(dep.final?.type, dep.text).toBe("deployment.succeeded");
    // The hook runs with the new proc's environment (from its env file, over ssh).
    expect(dep.text).toMatch(/hook sees hi-solo on port \d+/);
    // The same commit again cuts no release and starts no proc: it succeeds, and the hook is not
    // run again (it failed with "there is no new proc to run the release hook in").
    const again = await h.say(`deploy hello solo ${repo.initial}`);
    expect(again.final?.type, again.text).toBe("deployment.succeeded");
    expect(again.text).toContain("its hook ran when it was cut");
    const rows = await live("solo");
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((p) => p.host))).toEqual(new Set([bed.hosts[0]!.name]));
    const poolBefore = await pool("hello_solo");
    expect(poolBefore).toEqual(nodesOf(rows));

    const { value: r, samples } = await sampledPool("hello_solo", () => h.say("restart hello solo"));
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s.length, `pool sample ${s.join(",")}`).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => s.length === 1), "a proc was out of the pool while it restarted").toBe(true);
    expect(await pool("hello_solo")).toEqual(poolBefore);
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
  }, 60_000);

  it("a proc that fails its uptest after restart stays out of the pool; the others go back", async () => {
    const rows = await live("solo");
    const [bad, good] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const failing = join(bed.hosts[0]!.root, "procs", bad.name, "uptests", "web", "zz_restart");
    await writeFile(failing, "#!/bin/sh\necho \"cache not warm on $1:$2\" >&2\nexit 1\n", { mode: 0o755 });
    try {
      const r = await h.say("restart hello solo");
      expect(r.final?.type, r.text).toBe("deployment.failed");
      expect(r.text).toMatch(/uptest_failed/);
      expect(r.text).toContain("cache not warm");
      expect(await pool("hello_solo")).toEqual(nodesOf([good]));
    } finally {
      await rm(failing, { force: true });
    }
    // Fixed: the next restart puts the proc that stayed out back in.
    const again = await h.say("restart hello solo");
    expect(again.final?.type, again.text).toBe("deployment.succeeded");
    expect(await pool("hello_solo")).toEqual(nodesOf(rows));
  }, 60_000);

  it("runs a proc type named web-api end to end: deploy, scale it by name, supervisord runs it", async () => {
    const r = await h.say("deploy duo prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const up = await h.say("scale duo prod web-api=2");
    expect(up.final?.type, up.text).toBe("deployment.succeeded");
    const rows = await liveProcRows(h, "duo", "prod");
    const apis = rows.filter((p) => p.procType === "web-api");
    expect(apis.map((p) => p.name).sort()).toEqual(["duo-prod-v1-web-api-w0", "duo-prod-v1-web-api-w1"]);
    const running = await supervisedPrograms(bed);
    for (const p of apis) expect(running).toContain(`${p.host}/${p.name}/RUNNING`);
    expect(await pool("duo_prod")).toEqual(nodesOf(rows.filter((p) => p.procType === "web")));
  }, 90_000);

  it("a node added to the pool by hand survives routing; only the app's own nodes go", async () => {
    const lb = balancerFor(h.engine.playbook.balancers.lb!, h.engine);
    await lb.addNodes("hello_solo", ["127.0.0.99:1"]);
    const r = await h.say("scale hello solo web=1");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const rows = await live("solo");
    expect(rows).toHaveLength(1);
    expect(await pool("hello_solo")).toEqual([...nodesOf(rows), "127.0.0.99:1"].sort());
  }, 60_000);

  it("metrics: scraped over HTTP, a deployment moves raptor_deployments_total and times each of its steps; /healthz is 200", async () => {
    const routes = observabilityRoutes({ metrics, health: () => checkHealth({ redis: h.engine.redis, db: h.engine.db }) });
    const { server, port } = await serveObservability(routes, 0, "127.0.0.1");
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (text: string, series: string) => Number(text.split("\n").find((l) => l.startsWith(`${series} `))?.slice(series.length + 1) ?? 0);
    try {
      const before = await scrape();
      // The file's deployments so far were counted too: the uptest failure among them.
      expect(value(before, 'raptor_deployments_total{kind="deploy",outcome="failed"}')).toBeGreaterThanOrEqual(1);
      // duo: its commit already serves, untouched by the uptest tricks played on hello above.
      const r = await h.say("deploy duo prod");
      expect(r.final?.type, r.text).toBe("deployment.succeeded");
      const after = await scrape();
      const moved = (series: string) => value(after, series) - value(before, series);
      expect(moved('raptor_deployments_total{kind="deploy",outcome="succeeded"}')).toBe(1);
      const ran = r.events.filter((e) => e.type === "step.finished").map((e) => ("step" in e ? e.step : ""));
      expect(ran).toContain("resolve");
      for (const step of ran) expect(moved(`raptor_deployment_step_duration_seconds_count{step="${step}",outcome="succeeded"}`), step).toBe(1);
      expect(moved('raptor_deployment_step_duration_seconds_bucket{le="600",step="resolve",outcome="succeeded"}')).toBe(1);
      expect(value(after, 'raptor_queue_wait_seconds_count{queue="deployments"}')).toBeGreaterThanOrEqual(1);
      // The job may still be active for a moment after its final event: 0 or 1.
      expect(after).toMatch(/^raptor_queue_jobs\{queue="deployments",state="active"\} [01]$/m);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      server.close();
    }
  }, 60_000);
});
