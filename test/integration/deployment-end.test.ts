import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentById, endDeploymentWhileOpen, updateDeployment } from "../../db/queries/deployments.ts";
import { deploymentEvents } from "../../db/schema/index.ts";
import { finalEventTypes } from "../../engine/event-types.ts";
import { withRedisLockIfFree } from "../../engine/locks.ts";
import { endingKey } from "../../engine/pipeline/end.ts";
import { abandonDeployment, runDeployment } from "../../engine/pipeline/run.ts";
import type { Harness } from "../support/raptor-harness.ts";
import { startHelloHarness } from "../support/hello-harness.ts";

/**
 * A deployment ends once, whoever ends it: its final status is written by one caller and its
 * thread hears one verdict. Several may try at the same moment: the beat's expire job failing it
 * as stuck, the worker still on it (its step failed because the expire job's compensation removed
 * its procs: beat-one-host saw two `deployment.failed` under load), the worker's failed-job
 * handler, a worker taking over after a crash. No workers here: the enders are called by hand, at
 * once, through the real database and Redis.
 */
describe("a deployment's end happens once", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHelloHarness({ ports: "7910-7919", root: "/tmp/raptor-deployment-end" });
  }, 60_000);
  afterAll(() => h?.close());

  /** A deployment as the expire job finds a stuck one: running, its worker somewhere in a step. */
  const running = async (text = "deploy hello local") => {
    const r = await h.say(text, { follow: false });
    if (r.reply.kind !== "deployment") throw new Error(r.text);
    await updateDeployment(h.engine.db, r.reply.deploymentId, { status: "running", startedAt: new Date() });
    return r.reply.deploymentId;
  };
  const finals = async (id: string) =>
    (await h.engine.db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, id))).map((e) => e.type).filter((t) => finalEventTypes.has(t as never));
  const events = async (id: string) => (await h.engine.db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, id))).map((e) => e.type);

  it("three enders at once (the expire job, the worker's failed-job handler, a worker starting up): one ends it, one deployment.failed", async () => {
    const id = await running();
    const ended = await Promise.all([
      abandonDeployment(h.engine, id, "it ran longer than 3s (the beat's stuck_after)"),
      abandonDeployment(h.engine, id, "job stalled more than allowable limit"),
      abandonDeployment(h.engine, id, "its job failed without ending it"),
    ]);
    expect(ended.filter(Boolean)).toHaveLength(1);
    expect(await finals(id)).toEqual(["deployment.failed"]);
    expect((await deploymentById(h.engine.db, id))?.status).toBe("failed");
    // The line moved on once: a later ender finds it ended and does nothing.
    expect(await abandonDeployment(h.engine, id, "again")).toBe(false);
    expect(await finals(id)).toEqual(["deployment.failed"]);
  });

  it.each([
    ["succeeded", "failed"],
    ["failed", "failed"],
    ["cancelled", "failed"],
  ] as const)("the final status is a compare-and-set: %s and %s written at once, ten times each, one write wins", async (a, b) => {
    const id = await running();
    const at = new Date();
    const won = await Promise.all(Array.from({ length: 20 }, (_, i) => endDeploymentWhileOpen(h.engine.db, id, { status: i % 2 ? a : b, finishedAt: at })));
    const winners = won.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect((await deploymentById(h.engine.db, id))?.status).toBe(winners[0]!.status);
    expect(await endDeploymentWhileOpen(h.engine.db, id, { status: "succeeded", finishedAt: at })).toBeUndefined();
  });

  it("the worker whose step fails while the expire job is ending the deployment says nothing: no step.failed, no verdict, no compensation of its own", async () => {
    const id = await running("deploy hello local no-such-ref");
    // The expire job in the middle of its end (compensating): it holds the end's claim.
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const expire = withRedisLockIfFree(h.engine.redis, endingKey(h.engine.prefix, id), async () => {
      holding();
      await new Promise<void>((r) => (release = r));
    }, { ttlMs: 30_000 });
    await held;
    // The worker on it: its first step fails (no such ref) and it would end the deployment.
    const outcome = await runDeployment(h.engine, id, { finalAttempt: true });
    expect(outcome).toEqual({ kind: "done", status: "running" });
    expect(await events(id)).not.toContain("step.failed");
    expect(await finals(id)).toEqual([]);
    release();
    expect((await expire).held).toBe(true);
    // The expire job, done compensating, ends it: one verdict.
    expect(await abandonDeployment(h.engine, id, "it ran longer than 3s (the beat's stuck_after)")).toBe(true);
    expect(await finals(id)).toEqual(["deployment.failed"]);
  });
});
