import type { Job, Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { otherWorkersAlive, SAY_WORKER_NAME, startWorker } from "../../engine/worker.ts";
import type { Harness } from "../support/raptor-harness.ts";
import { startHelloHarness } from "../support/hello-harness.ts";

/** Polls a job's BullMQ state until `done` says so (a state change has no event on the Job itself), up to 10 s. */
async function stateOf(queue: Queue, id: string, done: (state: string) => boolean): Promise<string> {
  const until = Date.now() + 10_000;
  for (;;) {
    const state = await queue.getJobState(id);
    if (done(state) || Date.now() > until) return state;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Issue 11 (new-user trial): `raptor say` started a full worker of its own, with its own shell's
 * environment, which took `make run`'s jobs, the beat's reconcile and hosts among them, and ran a
 * deploy against the default supervisord port. Now say runs a worker only when no other is alive,
 * and that one takes its own deployment's jobs and live reads only.
 */
describe("raptor say's own worker", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHelloHarness({ ports: "7910-7919", root: "/tmp/raptor-say-worker", repo: "/nonexistent" });
  }, 60_000);
  afterAll(() => h?.close());

  it("takes no maintenance job and hands another deployment's job back unrun", async () => {
    const q = h.engine.queues;
    const reconcile = await q.enqueueMaintenance("reconcile", new Date());
    await q.enqueueDeployment("d-theirs1");
    const say = await startWorker(h.engine, { say: { deploymentId: "d-mine01" } });
    try {
      // It does not count as a worker that would do say's work, and nothing listens on maintenance.
      expect(await otherWorkersAlive(q)).toBe(false);
      expect(await q.maintenance.getWorkersCount()).toBe(0);
      // Run, d-theirs1 (no such deployment) would fail; handed back it waits, delayed, for its owner.
      expect(await stateOf(q.deployments, "d-theirs1", (s) => s !== "waiting" && s !== "active")).toBe("delayed");
      expect(((await q.deployments.getJob("d-theirs1")) as Job).processedBy).toBe(SAY_WORKER_NAME);
      expect(await q.maintenance.getJobState(reconcile)).toBe("waiting");
    } finally {
      await say.close();
      await q.maintenance.obliterate({ force: true });
      await q.deployments.obliterate({ force: true });
    }
  });

  it("`queue` shows a maintenance job waiting beside the deployments, and when each job runs next (issue 12)", async () => {
    const q = h.engine.queues;
    const reconcile = await q.enqueueMaintenance("reconcile", new Date("2030-01-01T00:00:30Z"));
    try {
      const r = await h.say("queue", { follow: false });
      const lines = r.text.split("\n");
      expect(lines).toContain(`${reconcile}  waiting  maintenance reconcile`);
      expect(reconcile).toBe("reconcile@20300101T000030Z");
      // The playbook sets no beat: the defaults (reconcile every 30 s, hosts every minute, ...).
      expect(lines.at(-1)).toMatch(/^maintenance next: .*\(`beat` shows what each did\)$/);
      expect(lines.at(-1)).toMatch(/\breconcile in \d+s\b/);
      expect(lines.at(-1)).toMatch(/\bhosts in \d+s\b/);
    } finally {
      await q.maintenance.obliterate({ force: true });
    }
  });

  it("sees a full worker (raptor all, raptor worker, make run) on the same Redis as alive, and no more once it stops", async () => {
    const q = h.engine.queues;
    expect(await otherWorkersAlive(q)).toBe(false);
    const full = await startWorker(h.engine);
    try {
      expect(await otherWorkersAlive(q)).toBe(true);
    } finally {
      await full.close();
    }
    expect(await otherWorkersAlive(q)).toBe(false);
  });
});
