import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { deploymentEvents, deploymentSteps, deployments } from "../../db/schema/index.ts";
import { orphanSeenKey } from "../../engine/beat/orphans.ts";
import { runMaintenance } from "../../engine/beat/run.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { createSupervisor } from "../../runners/supervisor/xmlrpc-client.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { until } from "../support/until.ts";

const STUCK_S = 3;
/** An uptest that takes this long: the deployment is "stuck" in it, then its worker goes on. */
const HANG_S = 10;
/** Only expire's stuck_after matters: the test runs the jobs itself, at the moments it chooses. */
const BEAT_YAML = `beat:\n  expire: { schedule: "0 0 1 1 *", stuck_after: ${STUCK_S}s }\n`;

/**
 * Beat jobs run by hand on one ssh host, at moments a schedule would only hit by chance.
 * The expire job's third duty (issue 12): a deployment running past `stuck_after` is failed and
 * compensated (its new procs removed, the serving release left serving), its thread says why, and
 * the worker still on it (hung, not dead) touches nothing more when it wakes up, nor when the
 * compensation fails its step under it: one verdict, whoever else tries to end it. The prune job
 * beside the orphans job: a directory is removed and reported by one of them, not both. Reconcile:
 * a crashed proc that will not come back where it was is replaced.
 */
describe("beat jobs run by hand on one ssh host: expire of a stuck deployment, prune beside orphans, a crash that fails again", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], { hello: { repo: repo.path, environments: { prod: bedEnv(2, "hello_prod", { uptest_timeout: "40s" }) } } }),
        "beat.yaml": BEAT_YAML,
      },
    });
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  const live = () => liveProcRows(h, "hello", "prod");
  const pool = () => poolNodes(h, "lb", "hello_prod");
  /** The verdicts the deployment's thread got (its recorded events). */
  const finals = async (id: string) =>
    (await h.engine.db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, id))).map((e) => e.type).filter((t) => ["deployment.succeeded", "deployment.failed", "deployment.cancelled"].includes(t));

  it("is failed and compensated; v1 serves on; the hung worker, waking, changes nothing", async () => {
    const v1 = await live();
    const v1Pool = await pool();
    expect(v1Pool).toEqual(nodesOf(v1));
    await repo.commit({ VERSION: "v2\n", "uptests/web/slow": `#!/bin/sh\nsleep ${HANG_S}\n` }, "v2: an uptest that hangs a while");
    const asked = await h.say("deploy hello prod", { follow: false });
    if (asked.reply.kind !== "deployment") throw new Error(asked.text);
    const id = asked.reply.deploymentId;

    // In its uptest, with v2's procs started beside v1's, for longer than stuck_after.
    await until("the deployment in its uptest", async () => (await h.engine.db.select().from(deploymentSteps).where(eq(deploymentSteps.deploymentId, id))).some((s) => s.name === "uptest" && s.status === "running"));
    const started = (await live()).filter((p) => !v1.some((o) => o.id === p.id));
    expect(started).toHaveLength(2);
    const [row] = await h.engine.db.select().from(deployments).where(eq(deployments.id, id));
    await until("stuck_after to pass", async () => Date.now() > row!.startedAt!.getTime() + STUCK_S * 1000 + 200, 10_000);

    const run = await runMaintenance(h.engine, { job: "expire", scheduledFor: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString() });
    expect(run.ran).toBe(true);
    const [ended] = await h.engine.db.select().from(deployments).where(eq(deployments.id, id));
    expect(ended?.status).toBe("failed");
    expect(ended?.error).toBe(`the deployment could not go on: it ran longer than ${STUCK_S}s (the beat's stuck_after)`);
    // Compensated: v2's procs are gone from the rows, from supervisord and from the pool; v1 serves.
    expect((await live()).map((p) => p.id).sort()).toEqual(v1.map((p) => p.id).sort());
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(v1));
    expect(await pool()).toEqual(v1Pool);
    for (const p of v1) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
    expect(await finals(id)).toEqual(["deployment.failed"]);

    // The worker still on it wakes when its uptest ends: it must not end the deployment again
    // (a second verdict in the thread) nor touch the fleet.
    await until("the hung worker's job to end", async () => ["completed", "failed"].includes(await h.engine.queues.deployments.getJobState(id)), (HANG_S + 30) * 1000);
    const [after] = await h.engine.db.select().from(deployments).where(eq(deployments.id, id));
    expect(after?.status).toBe("failed");
    expect(after?.error).toBe(ended?.error);
    expect(await finals(id)).toEqual(["deployment.failed"]);
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(v1));
    expect(await pool()).toEqual(v1Pool);

    // The line moved on: the next deployment runs.
    await repo.commit({ VERSION: "v3\n", "uptests/web/slow": "#!/bin/sh\nexit 0\n" }, "v3");
    const next = await h.say("deploy hello prod");
    expect(next.final?.type, next.text).toBe("deployment.succeeded");
  }, 120_000);

  it("expired as its uptest begins (its procs still starting): the compensation fails the uptest under the worker, and the thread hears one verdict, the expire job's", async () => {
    // Under load the steps before the uptest can take longer than stuck_after: the expire job
    // then runs while the worker waits for its procs to come up. Its compensation stops them, the
    // worker's wait fails at once ("did not come up") and the worker, too, would end it: two
    // `deployment.failed` in the thread (seen in CI at load 11). Here that moment is made exact.
    const v1 = await live();
    const v1Pool = await pool();
    await repo.commit({ VERSION: "v5\n", "uptests/web/slow": `#!/bin/sh\nsleep ${HANG_S}\n` }, "v5: an uptest that hangs a while");
    const asked = await h.say("deploy hello prod", { follow: false });
    if (asked.reply.kind !== "deployment") throw new Error(asked.text);
    const id = asked.reply.deploymentId;
    await until("the deployment in its uptest", async () => (await h.engine.db.select().from(deploymentSteps).where(eq(deploymentSteps.deploymentId, id))).some((s) => s.name === "uptest" && s.status === "running"));
    const [row] = await h.engine.db.select().from(deployments).where(eq(deployments.id, id));
    await h.engine.db.update(deployments).set({ startedAt: new Date(row!.startedAt!.getTime() - STUCK_S * 1000 - 200) }).where(eq(deployments.id, id));

    const run = await runMaintenance(h.engine, { job: "expire", scheduledFor: new Date(Math.floor(Date.now() / 1000) * 1000 + 1000).toISOString() });
    expect(run.ran && run.detail.stuckFailed).toEqual([id]);
    await until("the worker's job to end", async () => ["completed", "failed"].includes(await h.engine.queues.deployments.getJobState(id)), (HANG_S + 30) * 1000);
    const [ended] = await h.engine.db.select().from(deployments).where(eq(deployments.id, id));
    expect(ended?.status).toBe("failed");
    expect(ended?.error).toBe(`the deployment could not go on: it ran longer than ${STUCK_S}s (the beat's stuck_after)`);
    expect(await finals(id)).toEqual(["deployment.failed"]);
    // The worker, which lost the end, said nothing of its own: no failed step in the thread.
    const said = (await h.engine.db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, id))).map((e) => e.type);
    expect(said).not.toContain("step.failed");
    expect((await live()).map((p) => p.id).sort()).toEqual(v1.map((p) => p.id).sort());
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(v1));
    expect(await pool()).toEqual(v1Pool);

    await repo.commit({ VERSION: "v6\n", "uptests/web/slow": "#!/bin/sh\nexit 0\n" }, "v6");
    const next = await h.say("deploy hello prod");
    expect(next.final?.type, next.text).toBe("deployment.succeeded");
  }, 120_000);

  it("prune leaves a proc directory the orphans job is removing to it, and removes a gone proc's once the orphans job let go", async () => {
    const host = bed.hosts[0]!;
    const name = `hello-prod-v1-web-${bed.appPorts.to}`;
    const dir = join(host.root, "procs", name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "server.js"), "// an orphan's, being removed\n");
    // The orphans job mid-removal (runner.removeProc): the program is out of supervisord, its
    // files not yet; the job forgets the program only after they are gone. Both jobs run on the
    // same ticks: this is what a prune run beside it finds (beat-fleet saw it claim such a dir).
    const field = `${host.name} ${name}`;
    await h.engine.redis.hset(orphanSeenKey(h.engine.prefix), field, String(Date.now() - 60_000));
    let tick = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const prune = async () => {
      const r = await runMaintenance(h.engine, { job: "prune", scheduledFor: new Date((tick += 1000)).toISOString() });
      if (!r.ran) throw new Error("prune did not run");
      return r.detail.procDirsRemoved as string[];
    };
    expect(await prune()).toEqual([]);
    expect(existsSync(dir)).toBe(true);

    // Its removal failed before the files went: the orphans job no longer sees the program and
    // lets it go. Now it is a gone proc's directory, and prune's.
    await h.engine.redis.hdel(orphanSeenKey(h.engine.prefix), field);
    expect(await prune()).toEqual([`${name} on ${host.name}`]);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  it("reconcile: a crashed proc that fails again when restarted in place is replaced, started, uptested and routed", async () => {
    // A proc that will not start on a port marked bad: as a proc whose port, disk or config on that
    // host went wrong. Anywhere else it starts.
    const marks = join(bed.dir, "bad-ports");
    await mkdir(marks, { recursive: true, mode: 0o755 });
    await repo.commit({ VERSION: "v4\n", Procfile: `web: if [ -e ${marks}/$PORT ]; then echo "port $PORT marked bad" >&2; exit 1; fi; exec node server.js\n`, "uptests/web/slow": "#!/bin/sh\nexit 0\n" }, "v4: refuses a port marked bad");
    const d = await h.say("deploy hello prod");
    expect(d.final?.type, d.text).toBe("deployment.succeeded");
    const before = await live();
    const victim = before[0]!;
    await writeFile(join(marks, String(victim.port)), "");
    // Crash it: the whole proc (its process group); supervisord's restarts fail until it is FATAL.
    const s = createSupervisor({ url: bed.hosts[0]!.supervisorUrl, username: bed.supervisor.username, password: bed.supervisor.password });
    const pid = (await s.getAllProcessInfo()).find((i) => i.name === victim.name)!.pid;
    process.kill(-pid, "SIGKILL");
    await until(`${victim.name} FATAL`, async () => (await s.getAllProcessInfo()).find((i) => i.name === victim.name)?.statename === "FATAL");

    const run = await runMaintenance(h.engine, { job: "reconcile", scheduledFor: new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000).toISOString() });
    expect(run.ran && run.outcome, JSON.stringify(run)).toBe("done");
    const repair = await until("the repair to end", async () => {
      const [r] = await h.engine.db.select().from(deployments).where(eq(deployments.kind, "repair"));
      return r && !["queued", "running"].includes(r.status) && r;
    }, 60_000);
    const said = (await h.engine.db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, repair.id))).map((e) => JSON.stringify(e.data)).join("\n");
    expect(repair.status, said).toBe("succeeded");
    // Replaced: the victim's row ended, a new proc on another port runs, answers and is the pool.
    const after = await live();
    expect(after.map((p) => p.id)).not.toContain(victim.id);
    expect(after).toHaveLength(before.length);
    const fresh = after.find((p) => !before.some((b) => b.id === p.id))!;
    expect(fresh.port).not.toBe(victim.port);
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(after));
    expect(await pool()).toEqual(nodesOf(after));
    for (const p of after) expect(await httpGet(p.host, p.port!)).toContain("hello from v4");
    expect(said).toContain(`${victim.name} on ${victim.host} failed again after a restart: replacing it`);
  }, 120_000);
});
