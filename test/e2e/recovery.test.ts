import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { deploymentSteps, deployments, procs } from "../../db/schema/index.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, memoryLogger, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { groupMembers } from "../support/process-group.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const LOCK_MS = 4_000;
/** Procs of the web swarm: two on each of the bed's three hosts. */
const PER_HOST = 2;
const SIZE = PER_HOST * 3;

/**
 * A worker process killed with SIGKILL in the middle of `start`: BullMQ's stalled-job check hands
 * the job to another worker, which resumes from the checkpoint and ends consistent. (A kill at the
 * top of each step, held there by Postgres locks, is test/reliability/worker-kill.test.ts.)
 */
describe("recovery from a worker killed mid-deployment", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let child: ChildProcess | undefined;
  let childLog = "";
  const log = memoryLogger();

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 3 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      workers: 0,
      logger: log,
      // The in-process worker that takes over checks for stalled jobs every LOCK_MS / 2.
      options: { lockDurationMs: LOCK_MS },
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: repo.path, environments: { prod: bedEnv(SIZE, "hello_prod", { uptest_timeout: "8s" }) } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    killChild();
    await h?.close();
    await bed?.stop();
  });

  /** `bin/raptor worker` in its own process group (tsx runs the script in a child of its own). */
  function spawnWorker(): ChildProcess {
    const c = spawn(join(ROOT, "bin/raptor"), ["worker"], {
      cwd: ROOT,
      env: { ...process.env, ...h.env, RAPTOR_LOCK_DURATION_MS: String(LOCK_MS), RAPTOR_START_TIMEOUT_MS: "15000", LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    c.stdout!.on("data", (b: Buffer) => (childLog += b.toString()));
    c.stderr!.on("data", (b: Buffer) => (childLog += b.toString()));
    return c;
  }
  function killChild(): number | undefined {
    const pid = child?.pid;
    if (!pid) return undefined;
    try {
      process.kill(-pid, "SIGKILL"); // the group we created: the tsx wrapper and the worker it runs
    } catch {
      // already gone
    }
    child = undefined;
    return pid;
  }

  const live = () => liveProcRows(h, "hello");

  it("a separate `raptor worker` process deploys v1", async () => {
    child = spawnWorker();
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, `${r.text}\n${childLog}`).toBe("deployment.succeeded");
    const rows = await live();
    expect(rows).toHaveLength(SIZE);
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(rows));
  }, 60_000);

  /**
   * The kill lands halfway through `start` without timing: the third host's supervisord is paused
   * (SIGSTOP: its port accepts, no call is answered), so the layout there hangs while the other two
   * hosts get and run their new procs; the worker is killed then, and the host resumed.
   */
  it("SIGKILL mid-start (two hosts laid out, the third one's call hanging): another worker resumes it, and it ends consistent with no orphans", { timeout: 90_000 }, async () => {
    await repo.commit({ VERSION: "v2\n" }, "v2");
    const [first, second, hung] = bed.hosts.map((x) => x.name) as [string, string, string];
    bed.pauseSupervisord(hung);
    let id: string;
    let since: string | undefined;
    let atKill: string[];
    try {
      const reply = await h.say("deploy hello prod", { follow: false });
      if (reply.reply.kind !== "deployment") throw new Error(reply.text);
      ({ deploymentId: id, since } = reply.reply);
      // The first two hosts' share of the new swarm running; the third host's cannot be, its supervisord is held.
      const deadline = Date.now() + 30_000;
      const v2Running = async () => (await supervisedPrograms(bed, [first, second])).filter((n) => n.includes("-v2-") && n.endsWith("/RUNNING"));
      while ((await v2Running()).length < PER_HOST * 2) {
        if (Date.now() > deadline) throw new Error(`the first two hosts did not run their v2 procs\n${childLog}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const killedPid = killChild();
      expect(killedPid, childLog).toBeDefined();
      // SIGKILL is not catchable: the whole group dies (no worker lingers to finish the job). The
      // kernel takes a moment to tear a process down, so wait for /proc to agree, with a deadline.
      const goneBy = Date.now() + 5_000;
      while (groupMembers(killedPid!).length > 0 && Date.now() < goneBy) await new Promise((r) => setTimeout(r, 20));
      expect(groupMembers(killedPid!)).toEqual([]);
      atKill = await v2Running();
      // The deployment is stuck where the worker died: running, in `start`.
      const [d] = await h.engine.db.select().from(deployments).where(eq(deployments.id, id));
      expect(d!.status).toBe("running");
      const [startRow] = await h.engine.db
        .select()
        .from(deploymentSteps)
        .where(and(eq(deploymentSteps.deploymentId, id), eq(deploymentSteps.name, "start")));
      expect(startRow!.status).toBe("running");
    } finally {
      bed.resumeSupervisord(hung);
    }

    // A worker in this process takes over once BullMQ sees the job stalled.
    await h.startWorker();
    const r = await h.follow(id, since);
    expect(r.final?.type, `${r.text}\n${childLog}`).toBe("deployment.succeeded");
    // Issue 11 item 7: the thread names the step the new worker resumed in (start, where it died).
    expect(r.text).toContain("start: resumed at start by another worker (the previous one stopped)");
    // Issue 11 item 13: raptor.log records the recovery, and the steps the new worker ran with their durations.
    expect(log.lines).toContainEqual(expect.objectContaining({ level: "warn", deploymentId: id, recovery: "resumed", step: "start" }));
    expect(log.lines).toContainEqual(expect.objectContaining({ deploymentId: id, event: expect.stringMatching(/^step\.(finished|failed)$/), step: "start", durationMs: expect.any(Number) }));
    if (process.env.RAPTOR_TEST_LOG) console.log(`v2 programs in supervisord at the kill: ${atKill.length}\n${r.text}`);

    const rows = await live();
    // Consistent: every supervisord program has a live row and every live row a RUNNING program.
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(rows));
    expect(await poolNodes(h, "lb", "hello_prod")).toEqual(nodesOf(rows));
    expect(rows).toHaveLength(SIZE);
    // The procs started before the kill were kept, not started twice; the hung host got its share.
    expect(rows.every((p) => p.deploymentId === id)).toBe(true);
    expect(runningProgramsOf(rows.filter((p) => p.host !== hung))).toEqual(atKill);
    expect(rows.filter((p) => p.host === hung)).toHaveLength(PER_HOST);
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v2");
    // No proc row of this deployment is left half-made: every one is live and running.
    const mine = await h.engine.db.select().from(procs).where(eq(procs.deploymentId, id));
    expect(mine).toHaveLength(SIZE);
  });
});
