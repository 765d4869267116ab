/**
 * Reliability: a host lost (its sshd and supervisord stopped, which kills its procs) while `start`
 * lays out a deployment, and the balancer host's sshd lost while `route` changes the pool, under
 * HTTP load through a real nginx. nginx here keeps its default `proxy_next_upstream error timeout`,
 * as an operator's does: a lost host's procs die with it, and only a retry on the next node hides
 * that from clients until Raptor takes them out of the pool.
 * A host that comes back with stale procs is the beat's (test/e2e/beat-fleet.test.ts).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followDeployment } from "../../engine/events.ts";
import { liveProcRows, nodesOf, poolNodes, supervisorPrograms } from "../support/fleet-probe.ts";
import { startLoad, type Load } from "../support/http-load.ts";
import { startNginxBed, type NginxBed } from "../support/nginx-bed.ts";
import { httpGet, REDIS_URL, startHarness, type Harness, type SayResult } from "../support/raptor-harness.ts";

/**
 * Short on purpose: the nginx balancer confirms its reload and a removal waits for the old workers
 * to exit, so no request depends on the drain outlasting the reload. With a timed drain alone,
 * 300 ms let 2 of 1,380 requests get 502 under load (the old workers still routed to old nodes).
 */
const DRAIN_MS = 300;

describe("hosts lost mid-deployment, under load through nginx", () => {
  let nb: NginxBed;
  let h: Harness;
  let load: Load;
  let version = 1;
  let lastDeployment: { deploymentId: string; since: string | undefined } | undefined;

  beforeAll(async () => {
    nb = await startNginxBed({ appHosts: 3, retry: true });
    h = await startHarness({
      options: { drainMs: DRAIN_MS, startTimeoutMs: 20_000 },
      playbookYaml: { "pb.yaml": nb.playbookYaml({ size: { web: 3 }, drain: `${DRAIN_MS}ms`, uptest_timeout: "20s" }) },
    });
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    load = startLoad(nb.nginx.url("/"), { concurrency: 2, pauseMs: 10 });
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await h?.close();
    await nb?.stop();
  });

  /** Deploys a new commit; runs `fault` once step `at` has started; follows the deployment to its end. */
  async function deployWith(at: string, fault: () => Promise<void>): Promise<SayResult> {
    version++;
    await nb.repo.commit({ VERSION: `v${version}\n` }, `v${version}`);
    const reply = await h.say("deploy hello prod", { follow: false });
    if (reply.reply.kind !== "deployment") throw new Error(reply.text);
    const { deploymentId: id, since } = reply.reply;
    lastDeployment = { deploymentId: id, since };
    const tap = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const stop = new AbortController();
    await followDeployment(tap, h.engine.prefix, id, (e) => void (e.type === "step.started" && e.step === at && stop.abort()), { from: since, signal: stop.signal });
    tap.disconnect();
    await fault();
    return h.follow(id, since);
  }
  /** Every live proc row of a reachable host is a RUNNING program there, and every program there a live row. */
  async function noOrphans(reachable: string[]): Promise<void> {
    const rows = (await liveProcRows(h, "hello", "prod")).filter((p) => reachable.includes(p.host));
    // Ask only the reachable hosts' supervisords: a lost host's does not answer.
    const programs = await supervisorPrograms({ ...nb.bed, hosts: nb.bed.hosts.filter((x) => reachable.includes(x.name)) });
    expect(programs.map((p) => `${p.host}/${p.name}/${p.statename}`).sort()).toEqual(rows.map((p) => `${p.host}/${p.name}/RUNNING`).sort());
  }

  it("an app host lost while `start` runs: the deployment fails naming the host, the new procs elsewhere are removed, the old release keeps serving", { timeout: 120_000 }, async () => {
    const lost = nb.appHosts[0]!;
    const before = await liveProcRows(h, "hello", "prod");
    const r = await deployWith("start", async () => {
      await nb.bed.stopSshd(lost);
      await nb.bed.stopSupervisord(lost);
    });
    expect(r.final?.type, r.text).toBe("deployment.failed");
    expect(r.text).toContain(lost);
    const reachable = nb.appHosts.slice(1);
    await noOrphans(reachable);
    // The old release's procs on the other hosts serve on, through nginx.
    const serving = (await liveProcRows(h, "hello", "prod")).filter((p) => reachable.includes(p.host));
    expect(serving.map((p) => p.id).sort()).toEqual(before.filter((p) => reachable.includes(p.host)).map((p) => p.id).sort());
    for (const p of serving) expect(await httpGet(p.host, p.port!)).toContain(`hello from v${version - 1}`);
    expect(await httpGet(nb.nginx.address, nb.nginx.port)).toContain(`hello from v${version - 1}`);
    // No new proc stays in the pool.
    const pool = await poolNodes(h, "edge", "hello_prod");
    expect(pool).toEqual(nodesOf(before));
  });

  it("with the host back, the next deploy lands everywhere and the pool lists exactly the live procs", { timeout: 120_000 }, async () => {
    const lost = nb.appHosts[0]!;
    await nb.bed.startSupervisord(lost);
    await nb.bed.startSshd(lost);
    version++;
    await nb.repo.commit({ VERSION: `v${version}\n` }, `v${version}`);
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const rows = await liveProcRows(h, "hello", "prod");
    expect(rows).toHaveLength(3);
    await noOrphans(nb.appHosts);
    expect(await poolNodes(h, "edge", "hello_prod")).toEqual(nodesOf(rows));
  });

  it("the balancer host's sshd lost while `route` runs: the deployment fails naming it, new procs removed, the old release keeps serving", { timeout: 120_000 }, async () => {
    const lb = nb.nginx.address;
    const before = await liveProcRows(h, "hello", "prod");
    const poolBefore = await poolNodes(h, "edge", "hello_prod");
    const r = await deployWith("route", () => nb.bed.stopSshd(lb));
    try {
      expect(r.final?.type, r.text).toBe("deployment.failed");
      expect(r.text).toContain(lb);
      await noOrphans(nb.appHosts);
      expect((await liveProcRows(h, "hello", "prod")).map((p) => p.id).sort()).toEqual(before.map((p) => p.id).sort());
      expect(await httpGet(lb, nb.nginx.port)).toContain(`hello from v${version - 1}`);
    } finally {
      await nb.bed.startSshd(lb);
    }
    // nginx kept the pool it had: the balancer never took the half change.
    expect(await poolNodes(h, "edge", "hello_prod")).toEqual(poolBefore);
  });

  it("the balancer's nginx master slow to reload (stopped from `uptest` until 3 s into `route`): route waits for it, no request goes to a stopped proc", { timeout: 120_000 }, async () => {
    // A loaded machine can keep nginx's master from acting on SIGHUP for seconds; SIGSTOP makes
    // that certain. Its old workers keep accepting with the old pool meanwhile, so the old procs
    // must outlive the reload, not a timed drain.
    const master = Number((await readFile(join(nb.nginx.prefix, "nginx.pid"), "utf8")).trim());
    const resume = () => process.kill(master, "SIGCONT");
    const tap = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const watching = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await deployWith("uptest", async () => {
        process.kill(master, "SIGSTOP");
        const { deploymentId: id, since } = lastDeployment!;
        // Resumed 3 s after route starts, or as soon as teardown ends (a route that did not wait).
        void followDeployment(tap, h.engine.prefix, id, (e) => {
          if (e.type === "step.started" && e.step === "route") timer = setTimeout(resume, 3_000);
          if (e.type === "step.finished" && e.step === "teardown") resume();
        }, { from: since, signal: watching.signal }).catch(() => {});
      });
      expect(r.final?.type, r.text).toBe("deployment.succeeded");
      const rows = await liveProcRows(h, "hello", "prod");
      expect(await poolNodes(h, "edge", "hello_prod")).toEqual(nodesOf(rows));
      expect(await httpGet(nb.nginx.address, nb.nginx.port)).toContain(`hello from v${version}`);
    } finally {
      clearTimeout(timer);
      resume();
      watching.abort();
      tap.disconnect();
    }
  });

  it("no request through nginx failed while hosts were lost", async () => {
    const report = await load.stop();
    if (process.env.RAPTOR_TEST_LOG) console.log(`load through nginx: ${report.failed} of ${report.sent} requests failed`);
    expect(report.sent).toBeGreaterThan(100);
    expect(report.failures, `${report.failed} of ${report.sent} failed`).toEqual([]);
  });
});
