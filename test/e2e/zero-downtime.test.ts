/**
 * Zero downtime, proven under load, through real balancers: nginx, HAProxy and Varnish on a
 * balancer host (127.0.0.5, reached over SSH), three app hosts (127.0.0.2-4; each web proc binds
 * the HOST it is given). One app, three environments: `ngx` routed by nginx, `hx` by HAProxy's
 * runtime API, `vc` by Varnish (vcl.load + vcl.use). All go through deploy v1 -> deploy v2 -> scale 2 -> 4 -> 2 -> rollback -> a deploy whose uptests fail ->
 * restart, side by side, while constant HTTP load runs through each balancer. Retries to other
 * upstreams are off in the operator's configs (`proxy_next_upstream off`; `retries 0`, no
 * `option redispatch`; Varnish abandons a fetch on retry), so any request sent to a node that
 * went away would count as failed.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { dump } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBackendFile } from "../../balancers/haproxy-config.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes } from "../support/fleet-probe.ts";
import { startHaproxy, type TestHaproxy } from "../support/haproxy.ts";
import { startLoad, type Load, type LoadReport } from "../support/http-load.ts";
import { nginxArgv, startNginx, type TestNginx } from "../support/nginx.ts";
import { startHarness, type Harness, type SayResult } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { startVarnish, type TestVarnish } from "../support/varnish.ts";
import { releasePorts, reservePort } from "../support/testbed/ports.ts";
import { LocalHost } from "../../runners/local-host.ts";

const LB_HOST = "127.0.0.5";
const APP_HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
const ENVS = { ngx: { balancer: "edge", pool: "hello_ngx" }, hx: { balancer: "lb", pool: "hello_hx" }, vc: { balancer: "cache", pool: "hello_vc" } } as const;
type Env = keyof typeof ENVS;
/**
 * Covers requests in flight, not the balancers' apply: nginx's reload is confirmed and a removal
 * waits for its old workers, HAProxy drains sessions, Varnish's vcl.use is live when it returns.
 */
const DRAIN_MS = 300;

describe("zero downtime under load through real nginx, HAProxy and Varnish", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let nginx: TestNginx;
  let haproxy: TestHaproxy;
  let varnish: TestVarnish;
  const held: string[] = [];
  const loads = new Map<Env, Load>();
  const reports = new Map<Env, LoadReport>();
  /** When each step of the sequence ended, to read the answers phase by phase. */
  const marks: Record<string, number> = {};

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 4 });
    const port = await reservePort(18380, 1, [LB_HOST], held);
    nginx = await startNginx({ prefix: join(bed.dir, "nginx"), address: LB_HOST, port, pools: [ENVS.ngx.pool] });
    haproxy = await startHaproxy({ dir: join(bed.dir, "haproxy"), frontendPool: ENVS.hx.pool });
    const cachePort = await reservePort(18580, 1, [LB_HOST], held);
    varnish = await startVarnish({ prefix: join(bed.dir, "varnish"), address: LB_HOST, port: cachePort, pools: [ENVS.vc.pool] });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    const q = JSON.stringify;
    const ssh = `ssh: { user: ${q(bed.user)}, port: ${bed.hosts[0]!.sshPort}, key: ${q(bed.sshKeyPath)}, known_hosts: ${q(bed.knownHostsPath)} }`;
    const balancers = [
      `  edge:`,
      `    kind: nginx`,
      `    hosts: [${q(LB_HOST)}]`,
      `    ${ssh}`,
      `    include_dir: ${q(nginx.includeDir)}`,
      `    validate: ${q(nginx.validate)}`,
      `    reload: ${q(nginx.reload)}`,
      `  lb:`,
      `    kind: haproxy`,
      `    hosts: [${q(LB_HOST)}]`,
      `    ${ssh}`,
      `    socket: ${q(haproxy.socket)}`,
      `    include_dir: ${q(haproxy.includeDir)}`,
      `    validate: ${q(haproxy.validate)}`,
      `    reload: ${q(haproxy.reload)}`,
      `  cache:`,
      `    kind: varnish`,
      `    hosts: [${q(LB_HOST)}]`,
      `    ${ssh}`,
      `    include_dir: ${q(varnish.includeDir)}`,
      `    vcl: ${q(varnish.vcl)}`,
      `    varnishadm: ${q(varnish.varnishadm)}`,
      `    validate: ${q(varnish.validate)}`,
    ].join("\n");
    const squad = bed.squadYaml("bed", { hosts: APP_HOSTS });
    const env = (e: Env) => ({ squad: "bed", size: { web: 2 }, balancer: ENVS[e].balancer, pool: ENVS[e].pool, uptest_timeout: "20s", drain: `${DRAIN_MS}ms` });
    const apps = { hello: { repo: repo.path, environments: { ngx: env("ngx"), hx: env("hx"), vc: env("vc") } } };
    h = await startHarness({
      playbookYaml: { "pb.yaml": `squads:\n${squad}\nbalancers:\n${balancers}\n${dump({ apps }, { flowLevel: 4 })}` },
      // Generous start timeout: this file runs seven deployments of three environments at once.
      options: { drainMs: DRAIN_MS, startTimeoutMs: 30_000 },
    });
  }, 120_000);

  afterAll(async () => {
    for (const l of loads.values()) await l.stop();
    await h?.close();
    await nginx?.stop();
    await haproxy?.stop();
    await varnish?.stop();
    releasePorts(held);
    await bed?.stop();
  });

  const url = (e: Env) => ({ ngx: nginx.url("/"), hx: `http://127.0.0.1:${haproxy.port}/`, vc: varnish.url("/") })[e];
  const live = (e: Env) => liveProcRows(h, "hello", e);
  /** Runs the same command on every environment at once; each must end as `want`. */
  async function every(command: (e: Env) => string, want: "deployment.succeeded" | "deployment.failed", step: string): Promise<SayResult[]> {
    const results = await Promise.all((Object.keys(ENVS) as Env[]).map((e) => h.say(command(e))));
    for (const r of results) expect(r.final?.type, r.text).toBe(want);
    marks[step] = Date.now();
    return results;
  }
  const version = (body: string) => /hello from (v\d+)/.exec(body)?.[1] ?? body.trim().slice(0, 40);
  /** The versions answered between two marks, in order, repeats folded. */
  function versionsBetween(e: Env, from: number, to: number): string[] {
    const out: string[] = [];
    for (const a of reports.get(e)!.answers) {
      if (a.at < from || a.at > to) continue;
      const v = version(a.body);
      if (out.at(-1) !== v) out.push(v);
    }
    return out;
  }

  it("runs deploy v1 -> v2 -> scale 4 -> 2 -> rollback -> failing uptests -> restart with load on every balancer and no failed request", async () => {
    await every((e) => `deploy hello ${e}`, "deployment.succeeded", "v1");
    // Nothing serves before v1 is routed: the load starts once it is.
    for (const e of Object.keys(ENVS) as Env[]) loads.set(e, startLoad(url(e), { concurrency: 2, pauseMs: 10 }));
    marks.loadStarted = Date.now();
    await new Promise((r) => setTimeout(r, 500));

    await repo.commit({ VERSION: "v2\n" }, "v2");
    await every((e) => `deploy hello ${e}`, "deployment.succeeded", "v2");
    await every((e) => `scale hello ${e} web=4`, "deployment.succeeded", "scale4");
    await every((e) => `scale hello ${e} web=2`, "deployment.succeeded", "scale2");
    await every((e) => `rollback hello ${e}`, "deployment.succeeded", "rollback");
    await repo.commit({ VERSION: "v3\n", "uptests/web/http": "#!/bin/sh\necho \"v3 is not healthy on $1:$2\" >&2\nexit 1\n" }, "v3, unhealthy");
    const failed = await every((e) => `deploy hello ${e}`, "deployment.failed", "failedDeploy");
    for (const r of failed) if (r.final?.type === "deployment.failed") expect(r.final.step).toBe("uptest");
    await every((e) => `restart hello ${e}`, "deployment.succeeded", "restart");
    await new Promise((r) => setTimeout(r, 500));
    for (const [e, l] of loads) reports.set(e, await l.stop());
    loads.clear();
    marks.end = Date.now();

    for (const e of Object.keys(ENVS) as Env[]) {
      const r = reports.get(e)!;
      console.log(`zero-downtime ${e} (${ENVS[e].balancer}): ${r.sent} requests sent, ${r.failed} failed`);
      expect(r.sent).toBeGreaterThan(200);
      expect({ env: e, failed: r.failed, failures: r.failures }).toEqual({ env: e, failed: 0, failures: [] });
      // Answers move v1 -> v2 -> v1, and the failed v3 never answers.
      expect(versionsBetween(e, marks.loadStarted!, marks.end!).filter((v) => v !== "v1" && v !== "v2")).toEqual([]);
      const before = versionsBetween(e, marks.loadStarted!, marks.v2!);
      expect(before[0]).toBe("v1");
      expect(before.at(-1)).toBe("v2");
      expect(versionsBetween(e, marks.v2! + 1, marks.scale2!)).toEqual(["v2"]);
      const afterRollback = versionsBetween(e, marks.rollback! + 1, marks.end!);
      expect(afterRollback).toEqual(["v1"]);
    }
  }, 400_000);

  it("at the end each balancer lists exactly the live procs: nginx's and Varnish's pool files, HAProxy's runtime API and pool file", async () => {
    for (const e of Object.keys(ENVS) as Env[]) {
      const rows = await live(e);
      expect(rows).toHaveLength(2);
      expect(await poolNodes(h, ENVS[e].balancer, ENVS[e].pool)).toEqual(nodesOf(rows));
    }
    const hxNodes = nodesOf(await live("hx"));
    expect(parseBackendFile(await readFile(join(haproxy.includeDir, `${ENVS.hx.pool}.cfg`), "utf8"))).toEqual(hxNodes);
    const state = (await new LocalHost("lb").exec(["socat", "stdio", `unix-connect:${haproxy.socket}`], { stdin: `show servers state ${ENVS.hx.pool}\n` })).stdout;
    const names = state.split("\n").filter((l) => /^\d+ /.test(l) && l.split(" ").length > 5).map((l) => l.split(" ")[3]!).sort();
    expect(names).toEqual(hxNodes);
  });
});
