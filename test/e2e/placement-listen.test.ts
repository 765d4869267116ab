import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/**
 * Placement and the `listen` key on a bed of two ssh hosts: an app with three proc types, `web`
 * and `api` serving HTTP, `worker` listening on nothing.
 */
describe("placement and listen on two ssh hosts", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 2 });
    repo = await makeAppRepo(HELLO_APP, {
      Procfile: "web: node server.js\napi: node server.js\nworker: node worker.js\n",
      "worker.js": "setInterval(() => {}, 60_000);\n",
    });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: {
            repo: repo.path,
            environments: {
              spread: { squad: "bed", size: { web: 3, worker: 1 }, balancer: "lb", pool: "hello_spread", uptest_timeout: "20s" },
              apis: { squad: "bed", size: { web: 1, api: 2, worker: 1 }, listen: ["web", "api"], healthcheck: "/", balancer: "lb", pool: "hello_apis", uptest_timeout: "20s" },
            },
          },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  it("3 web + 1 worker on 2 hosts land 2/2: every proc on a host counts", async () => {
    const r = await h.say("deploy hello spread");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const rows = await liveProcRows(h, "hello", "spread");
    const perHost: Record<string, number> = {};
    for (const p of rows) perHost[p.host] = (perHost[p.host] ?? 0) + 1;
    expect(Object.values(perHost).sort()).toEqual([2, 2]);
    // and the web swarm itself is spread 2/1, the worker on the host with one web
    const webs = rows.filter((p) => p.procType === "web");
    const worker = rows.find((p) => p.procType === "worker")!;
    expect(webs.filter((p) => p.host === worker.host)).toHaveLength(1);
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(rows));
  }, 120_000);

  it("listen: [web, api] gives api procs a PORT, an uptest and a pool node; the worker none", async () => {
    const r = await h.say("deploy hello apis");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const rows = await liveProcRows(h, "hello", "apis");
    const apis = rows.filter((p) => p.procType === "api");
    expect(apis).toHaveLength(2);
    for (const p of apis) {
      expect(p.port).not.toBeNull();
      expect(await httpGet(p.host, p.port!, "/")).toMatch(/^hello from/);
    }
    expect(rows.find((p) => p.procType === "worker")!.port).toBeNull();
    const listening = rows.filter((p) => p.procType !== "worker");
    expect(await poolNodes(h, "lb", "hello_apis")).toEqual(nodesOf(listening));
  }, 120_000);
});
