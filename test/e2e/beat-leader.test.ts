import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { approvals, beatRuns, deployments, locks } from "../../db/schema/index.ts";
import { lockEnvironment } from "../../engine/api.ts";
import { leaseKey } from "../../engine/beat/schedule.ts";
import { runMaintenance } from "../../engine/beat/run.ts";
import { eventStreamKey, parseStreamEntry } from "../../engine/events.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { playbookYaml } from "../support/playbook-yaml.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { until } from "../support/until.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const LEASE_MS = 3_000;
/** The jobs that touch hosts run once a year here: this file is about the beat itself and expire. */
const BEAT_YAML = `beat:
  expire: "* * * * * *"
  hosts: "0 0 1 1 *"
  reconcile: "0 0 1 1 *"
  orphans: { schedule: "0 0 1 1 *", grace: 1m }
`;

/**
 * Two `raptor beat` processes against one Redis and one database: one leads, the other takes over
 * within a lease period when the leader is killed, and every tick runs once. The expire job ends
 * what time ends (an approval nobody gave, a lock taken for a while).
 */
describe("the beat: leader lease, one run per tick, expire", () => {
  let repo: AppRepo;
  let h: Harness;
  const children: ChildProcess[] = [];
  const logs = new Map<number, string>();

  beforeAll(async () => {
    repo = await makeAppRepo(HELLO_APP);
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml(["  local:\n    hosts: [localhost]\n    transport: local\n"], {
          hello: {
            repo: repo.path,
            environments: {
              gated: { squad: "local", size: { web: 1 }, approval: { required: true, timeout: "2s" } },
              open: { squad: "local", size: { web: 1 } },
            },
          },
        }),
        "beat.yaml": BEAT_YAML,
      },
    });
  }, 60_000);
  afterAll(async () => {
    for (const c of children) {
      try {
        if (c.pid) process.kill(-c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await h?.close();
  });

  function spawnBeat(): ChildProcess {
    const c = spawn(join(ROOT, "bin/raptor"), ["beat"], {
      cwd: ROOT,
      env: { ...process.env, ...h.env, RAPTOR_BEAT_LEASE_MS: String(LEASE_MS), LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const log = (b: Buffer) => logs.set(c.pid!, (logs.get(c.pid!) ?? "") + b.toString());
    c.stdout!.on("data", log);
    c.stderr!.on("data", log);
    children.push(c);
    return c;
  }
  const runsOf = (job: string) => h.engine.db.select().from(beatRuns).where(eq(beatRuns.job, job));
  /** The process group (the spawned child's pid) of the lease holder: holders are `<pid>-<random>`. */
  const holderGroup = async () => {
    const pid = (await h.engine.redis.get(leaseKey(h.engine.prefix)))?.split("-")[0];
    if (!pid) return undefined;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after ")".
      return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[2]);
    } catch {
      return undefined;
    }
  };

  it("two beat processes: one leads, each tick runs once, and the other takes over within a lease period when the leader dies", async () => {
    const a = spawnBeat();
    const b = spawnBeat();
    const leader = await until(
      "a leader",
      async () => {
        const g = await holderGroup();
        return g !== undefined && [a.pid, b.pid].includes(g) && g;
      },
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${[...logs.values()].join("\n---\n")}`);
    });
    // Ticks every second; wait for a few of them.
    await until("5 expire runs", async () => (await runsOf("expire")).length >= 5 || undefined);
    const before = await runsOf("expire");
    const ticks = new Set(before.map((r) => r.scheduledFor.toISOString()));
    expect(ticks.size, "a tick ran twice").toBe(before.length);

    // Kill the leader the hard way (no lease handed over).
    const dead = leader === a.pid ? a : b;
    const survivor = dead === a ? b : a;
    const killedAt = Date.now();
    process.kill(-dead.pid!, "SIGKILL");
    await until("the survivor to lead", async () => (await holderGroup()) === survivor.pid, LEASE_MS * 3);
    const tookOverMs = Date.now() - killedAt;
    // A lease period, plus one attempt interval (a third of it) and the poll.
    expect(tookOverMs).toBeLessThan(LEASE_MS + LEASE_MS / 3 + 1_000);
    const n = (await runsOf("expire")).length;
    await until("ticks after the takeover", async () => (await runsOf("expire")).length >= n + 3 || undefined);
    const after = await runsOf("expire");
    expect(new Set(after.map((r) => r.scheduledFor.toISOString())).size, "a tick ran twice").toBe(after.length);
    expect(after.every((r) => r.outcome !== "failed"), JSON.stringify(after.filter((r) => r.outcome === "failed"))).toBe(true);
    console.log(`beat takeover after leader SIGKILL: ${tookOverMs} ms (lease ${LEASE_MS} ms)`);
  }, 60_000);

  it("a tick enqueued twice (two leaders at once) is one job, and run twice it runs once", async () => {
    const tick = new Date("2030-01-01T00:00:00Z");
    const id1 = await h.engine.queues.enqueueMaintenance("expire", tick);
    const id2 = await h.engine.queues.enqueueMaintenance("expire", tick);
    expect(id1).toBe("expire@20300101T000000Z");
    expect(id2).toBe(id1);
    const jobs = (await h.engine.queues.maintenance.getJobs(["waiting", "active", "completed", "failed", "delayed"])).filter((j) => j.id === id1);
    expect(jobs).toHaveLength(1);
    await until("the tick's run", async () => (await h.engine.db.select().from(beatRuns).where(and(eq(beatRuns.job, "expire"), eq(beatRuns.scheduledFor, tick)))).length === 1);
    const again = await runMaintenance(h.engine, { job: "expire", scheduledFor: tick.toISOString() });
    expect(again).toEqual({ ran: false, reason: "already_run" });
  });

  it("an approval nobody gives in time is rejected as expired by the beat, in the deployment's thread", async () => {
    const r = await h.say("deploy hello gated");
    expect(r.reply.kind).toBe("deployment");
    expect(r.final?.type).toBe("deployment.rejected");
    expect(r.text).toMatch(/rejected by raptor: nobody approved it in time/);
    if (r.reply.kind !== "deployment") return;
    const [a] = await h.engine.db.select().from(approvals).where(eq(approvals.deploymentId, r.reply.deploymentId));
    expect(a?.status).toBe("expired");
    const [d] = await h.engine.db.select().from(deployments).where(eq(deployments.id, r.reply.deploymentId));
    expect(d?.status).toBe("rejected");
  }, 30_000);

  it("a lock taken for a while is released when it ends, and the thread it was taken in and the environment's channel hear it once", async () => {
    const since = (await h.engine.redis.xadd(eventStreamKey(h.engine.prefix), "*", "e", "{}"))!;
    // Taken in a Slack thread (new-user trial: the lock's end was not said where it was taken).
    await lockEnvironment(h.engine, "hello", "open", "U_ALICE", "db migration", 1_500, "slack:C0LOCKS:1700000000.000100");
    const refused = await h.say("deploy hello open", { follow: false });
    expect(refused.reply.kind).toBe("refused");
    expect(refused.text).toMatch(/locked by U_ALICE \(db migration\) until/);
    await until("the lock to go", async () => (await h.engine.db.select().from(locks).where(eq(locks.app, "hello"))).length === 0);
    // Let a few more ticks pass: the news is said once, not every tick.
    const n = (await runsOf("expire")).length;
    await until("more ticks", async () => (await runsOf("expire")).length >= n + 2 || undefined);
    const entries = (await h.engine.redis.xrange(eventStreamKey(h.engine.prefix), since, "+")).map(([id, f]) => parseStreamEntry(id, f)).filter((e) => e?.type === "beat.report");
    const said = expect.stringMatching(/^hello open is unlocked: the lock U_ALICE took \(db migration\) ended at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/);
    // Once in the thread where it was taken, once where the environment's news goes (no channel: the terminal).
    expect(entries.map((e) => ({ origin: (e as { origin: string }).origin, text: (e as { text: string }).text }))).toEqual([
      { origin: "slack:C0LOCKS:1700000000.000100", text: said },
      { origin: "terminal", text: said },
    ]);
    const [run] = await h.engine.db.select().from(beatRuns).where(sql`${beatRuns.detail}->'locksReleased' @> '["hello open"]'::jsonb`);
    expect(run?.outcome).toBe("done");
  }, 30_000);
});
