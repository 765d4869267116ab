import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { Redis } from "ioredis";
import { deploymentSteps, deployments, procs } from "../../db/schema/index.ts";
import { followDeployment } from "../../engine/events.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, memoryLogger, REDIS_URL, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { groupMembers } from "../support/process-group.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const LOCK_MS = 4_000;

/**
 * A worker process killed with SIGKILL in the middle of `start`: BullMQ's stalled-job check hands
 * the job to another worker, which resumes from the checkpoint and ends consistent.
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
          // Many procs, so `start` is still laying them out when the first host has the build: enough
          // that it lasts long enough to be interrupted, even on a busy machine.
          hello: { repo: repo.path, environments: { prod: bedEnv(18, "hello_prod", { uptest_timeout: "8s" }) } },
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
    expect(rows).toHaveLength(18);
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(rows));
  }, 60_000);

  // Skipped with its reason: the kill is timed by polling supervisord, and `start` (now one layout
  // per host) often ends before it lands (CI: "succeeded", not "running", twice). A kill inside each
  // step, held there by Postgres locks, is test/reliability/worker-kill.test.ts.
  it.skip("SIGKILL mid-start: another worker resumes it, and it ends consistent with no orphans [skipped: the kill often lands after start ends; test/reliability/worker-kill.test.ts kills inside start deterministically]", { timeout: 90_000 }, async () => {
    const v1 = await live();
    await repo.commit({ VERSION: "v2\n" }, "v2");
    const reply = await h.say("deploy hello prod", { follow: false });
    if (reply.reply.kind !== "deployment") throw new Error(reply.text);
    const { deploymentId: id, since } = reply.reply;

    // Once the first host has the build, `start` is laying procs out there; as soon as the first
    // new program shows in a supervisord (no event marks it: poll, with a deadline), kill the worker.
    const tap = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const stop = new AbortController();
    await followDeployment(
      tap,
      h.engine.prefix,
      id,
      (e) => {
        if (e.type === "step.progress" && e.step === "start" && e.message.startsWith("uploaded build to")) stop.abort();
      },
      { from: since, signal: stop.signal },
    );
    tap.disconnect();
    const deadline = Date.now() + 15_000;
    while (!(await supervisedPrograms(bed)).some((n) => n.includes("-v2-"))) {
      if (Date.now() > deadline) throw new Error(`no v2 program appeared\n${childLog}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const killedPid = killChild();
    expect(killedPid, childLog).toBeDefined();
    // SIGKILL is not catchable: the whole group dies (no worker lingers to finish the job). The
    // kernel takes a moment to tear a process down, so wait for /proc to agree, with a deadline.
    const goneBy = Date.now() + 5_000;
    while (groupMembers(killedPid!).length > 0 && Date.now() < goneBy) await new Promise((r) => setTimeout(r, 20));
    expect(groupMembers(killedPid!)).toEqual([]);
    const atKill = (await supervisedPrograms(bed)).filter((n) => n.includes("-v2-"));
    expect(atKill.length).toBeGreaterThan(0);
    // The deployment is stuck where the worker died: running, in `start`.
    const [d] = await h.engine.db.select().from(deployments).where(eq(deployments.id, id));
    expect(d!.status).toBe("running");
    const [startRow] = await h.engine.db
      .select()
      .from(deploymentSteps)
      .where(and(eq(deploymentSteps.deploymentId, id), eq(deploymentSteps.name, "start")));
    expect(startRow!.status).toBe("running");

    // A worker in this process takes over once BullMQ sees the job stalled.
    await h.startWorker();
    const r = await h.follow(id, since);
    expect(["deployment.succeeded", "deployment.failed"]).toContain(r.final?.type);
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
    if (r.final?.type === "deployment.succeeded") {
      expect(rows).toHaveLength(18);
      expect(rows.every((p) => p.deploymentId === id)).toBe(true);
      for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v2");
    } else {
      // Failed and cleaned up: v1 is what serves, untouched.
      expect(rows.map((p) => p.id).sort()).toEqual(v1.map((p) => p.id).sort());
      for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
    }
    // Either way, no proc of this deployment is left half-made: each row is live and running, or removed.
    const mine = await h.engine.db.select().from(procs).where(eq(procs.deploymentId, id));
    expect(mine.length).toBeGreaterThanOrEqual(9);
    // One retry: the kill must land inside `start`, and on a quiet machine `start` sometimes ends
    // before the first new program is seen (failed 1 in 3 clean runs). Needs a step it can hold.
  });
});
