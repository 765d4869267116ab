import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, isNull } from "drizzle-orm";
import { procs } from "../../db/schema/index.ts";
import { balancerFor } from "../../balancers/registry.ts";
import { createSupervisor } from "../../runners/supervisor/xmlrpc-client.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/** One testbed of three hosts for the whole file: deploys build on each other, in order. */
describe("deploy pipeline on three ssh hosts", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 3 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      playbookYaml: {
        "squads.yaml": `squads:\n${bed.squadYaml("bed")}\n`,
        "balancers.yaml": "balancers:\n  lb:\n    kind: memory\n",
        "apps.yaml": [
          "apps:",
          "  hello:",
          `    repo: ${JSON.stringify(repo.path)}`,
          "    environments:",
          "      prod:",
          "        squad: bed",
          "        size: { web: 4 }",
          "        balancer: lb",
          "        pool: hello_prod",
          "        uptest_timeout: 8s",
          "        env: { GREETING: hi }",
        ].join("\n"),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  const live = () => h.engine.db.select().from(procs).where(and(eq(procs.app, "hello"), isNull(procs.removedAt)));
  const pool = () => balancerFor(h.engine.playbook.balancers.lb!, h.engine).getNodes("hello_prod");
  async function supervised(): Promise<string[]> {
    const names: string[] = [];
    for (const host of bed.hosts) {
      const s = createSupervisor({ url: host.supervisorUrl, username: bed.supervisor.username, password: bed.supervisor.password });
      names.push(...(await s.getAllProcessInfo()).map((i) => `${host.name}/${i.name}/${i.statename}`));
    }
    return names.sort();
  }

  it("deploys v1 as 4 procs spread over 3 hosts, each answering with v1 and routed", async () => {
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    expect(r.text).toMatch(/resolve .*main → [0-9a-f]{7}/);
    const rows = await live();
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((p) => p.host)).size).toBe(3);
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
    expect(await pool()).toEqual(rows.map((p) => `${p.host}:${p.port}`).sort());
    expect((await supervised()).filter((n) => n.endsWith("/RUNNING"))).toHaveLength(4);
  });
});
