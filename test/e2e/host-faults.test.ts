import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, supervisedPrograms } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/**
 * What goes wrong on the hosts and the balancer, and what the thread says about it: procs that
 * die or listen elsewhere, a balancer that cannot be reached during cleanup.
 */
describe("host faults end to end on two ssh hosts", () => {
  let bed: Testbed;
  let hello: AppRepo;
  let crashy: AppRepo;
  let deaf: AppRepo;
  let h: Harness;
  const SECRET = "postgres://app:s3cr3t-hf-9f2c@db.internal/app";

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 2 });
    hello = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    // Prints why it cannot start (with a secret in it, as real errors do) and exits.
    crashy = await makeAppRepo(HELLO_APP, {
      Procfile: "web: node crash.js\n",
      "crash.js": 'console.log("starting crashy"); console.error("FATAL: cannot open database " + process.env.DATABASE_URL); process.exit(3);\n',
    });
    // Listens, but on 127.0.0.1 instead of the HOST it was given.
    deaf = await makeAppRepo(HELLO_APP, { Procfile: "web: HOST=127.0.0.1 node server.js\n" });
    process.env.HF_DATABASE_URL = SECRET;
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: hello.path, environments: { prod: bedEnv(2, "hello_prod", { uptest_timeout: "6s" }) } },
          crashy: { repo: crashy.path, environments: { prod: bedEnv(2, "crashy_prod", { uptest_timeout: "6s", env: { DATABASE_URL: "${HF_DATABASE_URL}" } }) } },
          deaf: { repo: deaf.path, environments: { prod: bedEnv(1, "deaf_prod", { uptest_timeout: "6s" }) } },
        }),
      },
      options: { startTimeoutMs: 4_000 },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
    delete process.env.HF_DATABASE_URL;
  });

  /** Makes every Redis operation on the memory balancer's pool fail (WRONGTYPE), as a dead balancer would. */
  const breakPool = (pool: string) => h.engine.redis.set(`${h.engine.prefix}pool:lb:${pool}`, "not a set");
  const mendPool = (pool: string) => h.engine.redis.del(`${h.engine.prefix}pool:lb:${pool}`);
  const programsOf = async (app: string) => (await supervisedPrograms(bed)).filter((n) => n.includes(`/${app}-`));

  it("a proc that prints an error and exits: its output reaches the thread (secrets masked), and its procs are removed though the balancer is down", async () => {
    await breakPool("crashy_prod");
    try {
      const r = await h.say("deploy crashy prod");
      expect(r.final?.type, r.text).toBe("deployment.failed");
      if (r.final?.type !== "deployment.failed") return;
      expect(r.final.step).toBe("uptest");
      expect(r.final.output).toContain("FATAL: cannot open database");
      expect(r.final.output).toContain("starting crashy");
      expect(r.text).toContain("FATAL: cannot open database");
      expect(r.text).not.toContain("s3cr3t-hf-9f2c");
      // Routing never began, so cleanup needs no balancer: the procs are gone, nothing is left to say about the pool.
      expect(r.text).toContain("removed 2 new procs");
      expect(r.text).not.toContain("cleanup failed");
      expect(await programsOf("crashy")).toEqual([]);
      expect(await liveProcRows(h, "crashy")).toEqual([]);
    } finally {
      await mendPool("crashy_prod");
    }
  }, 60_000);

  it("a proc that listens on another address: the message names the PORT and HOST it was given", async () => {
    const r = await h.say("deploy deaf prod");
    expect(r.final?.type, r.text).toBe("deployment.failed");
    if (r.final?.type !== "deployment.failed") return;
    const placed = r.text.match(/PORT=(\d+) and HOST=(127\.0\.0\.\d+)/);
    expect(placed, r.text).not.toBeNull();
    expect(bed.hosts.map((b) => b.name)).toContain(placed![2]);
    expect(Number(placed![1])).toBeGreaterThanOrEqual(bed.appPorts.from);
    expect(r.text).toContain("does it listen there?");
    expect(r.text).toContain(`nothing accepts connections on ${placed![2]}:${placed![1]}`);
    expect(await programsOf("deaf")).toEqual([]);
  }, 60_000);

  it("a balancer that fails while routing: the new procs are still removed from the hosts, and the thread says what was not undone", async () => {
    await breakPool("hello_prod");
    try {
      const r = await h.say("deploy hello prod");
      expect(r.final?.type, r.text).toBe("deployment.failed");
      if (r.final?.type !== "deployment.failed") return;
      expect(r.final.step).toBe("route");
      expect(r.text).toContain("removed 2 new procs");
      expect(r.text).toContain("could not take the new nodes out of pool hello_prod on balancer lb");
      expect(r.text).toMatch(/remove them from hello_prod by hand/);
      expect(r.text).not.toContain("cleanup failed");
      expect(await programsOf("hello")).toEqual([]);
      expect(await liveProcRows(h, "hello")).toEqual([]);
    } finally {
      await mendPool("hello_prod");
    }
    const again = await h.say("deploy hello prod");
    expect(again.final?.type, again.text).toBe("deployment.succeeded");
  }, 60_000);
});
