import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { deployments, procs } from "../../db/schema/index.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/** What goes wrong: a host that cannot be reached, a ref that does not exist, a locked environment. */
describe("failures end to end on three ssh hosts", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  const DOWN = "127.0.0.3";

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 3 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    await repo.tag("v1.0");
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: repo.path, environments: { prod: bedEnv(3, "hello_prod", { uptest_timeout: "6s" }) } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  const live = () => liveProcRows(h, "hello");
  const pool = () => poolNodes(h, "lb", "hello_prod");
  async function expectSupervisorMatchesDb(): Promise<void> {
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(await live()));
  }
  const deploymentCount = async () => (await h.engine.db.select({ id: deployments.id }).from(deployments)).length;

  it("deploys v1 on all three hosts", async () => {
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const rows = await live();
    expect(rows.map((p) => p.host).sort()).toEqual(bed.hosts.map((b) => b.name));
    await expectSupervisorMatchesDb();
  });

  it("with sshd down on one host: a clear error naming it, nothing half-done, v1 still serving", async () => {
    const v1 = await live();
    const poolBefore = await pool();
    await bed.stopSshd(DOWN);
    await repo.commit({ VERSION: "v2\n" }, "v2");
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.failed");
    if (r.final?.type !== "deployment.failed") return;
    expect(r.final.step).toBe("start");
    expect(r.final.code).toBe("host_unreachable");
    expect(r.final.message).toContain(`cannot reach host ${DOWN}`);
    expect(r.text).toContain(`cannot reach host ${DOWN}`);
    expect(r.text).toMatch(/is sshd running\?/);

    // Nothing of the failed deployment is live, in the database or in any supervisord.
    const id = r.reply.kind === "deployment" ? r.reply.deploymentId : "";
    const mine = await h.engine.db.select().from(procs).where(eq(procs.deploymentId, id));
    expect(mine.length).toBe(3);
    expect(mine.filter((p) => p.removedAt === null)).toEqual([]);
    expect((await live()).map((p) => p.id).sort()).toEqual(v1.map((p) => p.id).sort());
    expect((await supervisedPrograms(bed)).filter((n) => n.includes("-v2-"))).toEqual([]);
    await expectSupervisorMatchesDb();
    expect(await pool()).toEqual(poolBefore);
    for (const p of v1) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
  }, 60_000);

  it("once sshd is back, the same worker reconnects and the deploy goes through", async () => {
    const accepted = async () => ((await bed.sshdLog(DOWN)).match(/Accepted publickey/g) ?? []).length;
    const before = await accepted();
    await bed.startSshd(DOWN);
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    expect(await accepted()).toBeGreaterThan(before); // a new connection, not a stale one
    const rows = await live();
    expect(rows.map((p) => p.host).sort()).toEqual(bed.hosts.map((b) => b.name));
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v2");
    expect(await pool()).toEqual(nodesOf(rows));
    await expectSupervisorMatchesDb();
  }, 60_000);

  it("an unknown ref fails with the ref error, listing the refs there are, and changes nothing", async () => {
    const before = await live();
    const r = await h.say("deploy hello prod no-such-branch");
    expect(r.final?.type, r.text).toBe("deployment.failed");
    if (r.final?.type !== "deployment.failed") return;
    expect(r.final.code).toBe("ref_not_found");
    expect(r.final.step).toBe("resolve");
    // The thread as the terminal prints it: the refs named without Slack's code backticks.
    expect(r.text).toContain("No branch, tag or commit no-such-branch");
    expect(r.text).toContain("Branches: main");
    expect(r.text).toContain("Tags: v1.0");
    expect((await live()).map((p) => p.id).sort()).toEqual(before.map((p) => p.id).sort());
    await expectSupervisorMatchesDb();
  }, 30_000);

  it("deploy while locked is refused with who locked it and why; nothing is queued", async () => {
    const lock = await h.say("lock hello prod migrating the database", { actor: { id: "U_ALICE" } });
    expect(lock.reply.kind, lock.text).toBe("done");
    const n = await deploymentCount();
    const r = await h.say("deploy hello prod");
    expect(r.reply.kind).toBe("refused");
    expect(r.text).toContain("locked by U_ALICE (migrating the database)");
    expect(await deploymentCount()).toBe(n);
    const unlock = await h.say("unlock hello prod", { actor: { id: "U_ALICE" } });
    expect(unlock.text).toContain("unlocked");
  }, 30_000);

  it("a failed build shows the tail of its log in the thread, and changes nothing", async () => {
    const before = await live();
    // An app that brings its own bin/compile (the `custom` buildpack detects it) and fails loudly.
    const lines = Array.from({ length: 60 }, (_, i) => `echo "compile line ${i + 1}"`).join("\n");
    await repo.commit({ "bin/compile": `#!/bin/sh\n${lines}\necho "npm ERR! missing script: build" >&2\nexit 1\n` }, "broken build");
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.failed");
    if (r.final?.type !== "deployment.failed") return;
    expect(r.final.step).toBe("build");
    expect(r.final.code).toBe("build_failed");
    expect(r.text).toContain("compile line 60");
    expect(r.text).toContain("npm ERR! missing script: build");
    expect(r.text).not.toContain("compile line 1\n");
    // Issue 11 item 8: the log once, and the duration on its own line, not glued to the log's last line.
    expect(r.text.split("compile line 60").length - 1, r.text).toBe(1);
    expect(r.text).not.toMatch(/npm ERR! missing script: build[^\n]*took/);
    expect(r.text).toMatch(/no buildpack|failed at build/);
    expect((await live()).map((p) => p.id).sort()).toEqual(before.map((p) => p.id).sort());
    await expectSupervisorMatchesDb();
  }, 60_000);
});
