import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, desc, eq } from "drizzle-orm";
import { deployments, procs } from "../../db/schema/index.ts";
import { finalEventTypes } from "../../engine/event-types.ts";
import type { EngineEvent } from "../../engine/event-types.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness, type SayResult } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/** Stream ids ("ms-seq") in stream order. */
function streamOrder(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  return am! < bm! ? -1 : am! > bm! ? 1 : as! < bs! ? -1 : as! > bs! ? 1 : 0;
}

function eventOf(r: SayResult, pred: (e: EngineEvent) => boolean, what: string): EngineEvent {
  const e = r.events.find(pred);
  if (!e) throw new Error(`no ${what} in ${r.events.map((x) => x.type).join(", ")}\n${r.text}`);
  return e;
}
const started = (r: SayResult) => eventOf(r, (e) => e.type === "deployment.started", "deployment.started");
const terminal = (r: SayResult) => eventOf(r, (e) => finalEventTypes.has(e.type), "final event");

/** Deployments of one app+env take turns; different apps run side by side; a queued one can be cancelled. */
describe("ordering of deployments", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 3 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: repo.path, environments: { prod: bedEnv(2, "hello_prod", { uptest_timeout: "6s" }) } },
          hello2: { repo: repo.path, environments: { prod: bedEnv(1, "hello2_prod", { uptest_timeout: "6s" }) } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  const live = (app: string) => liveProcRows(h, app);
  const idOf = (r: SayResult) => {
    if (r.reply.kind !== "deployment") throw new Error(`not a deployment: ${r.text}`);
    return r.reply;
  };

  it("two deployments of the same app+env requested together run one after the other", async () => {
    const a = await h.say("deploy hello prod", { follow: false });
    const b = await h.say("deploy hello prod", { follow: false });
    const ra = idOf(a);
    const rb = idOf(b);
    expect(b.text).toBe(`${rb.deploymentId} is queued behind ${ra.deploymentId}.`);
    const [fa, fb] = await Promise.all([h.follow(ra.deploymentId, ra.since), h.follow(rb.deploymentId, rb.since)]);
    expect(fa.final?.type, fa.text).toBe("deployment.succeeded");
    expect(fb.final?.type, fb.text).toBe("deployment.succeeded");
    expect(fb.text).toContain(`queued behind 1 deployment: ${ra.deploymentId}`);
    // The second started only after the first had ended.
    expect(streamOrder(terminal(fa).id, started(fb).id)).toBe(-1);
    const rows = await live("hello");
    expect(rows).toHaveLength(2);
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v1");
  }, 60_000);

  it("a deployment queued behind another reports (and offers to roll back to) the release it really replaced", async () => {
    const [before] = await h.engine.db.select().from(deployments).where(and(eq(deployments.app, "hello"), eq(deployments.status, "succeeded"))).orderBy(desc(deployments.finishedAt)).limit(1);
    const shaA = await repo.commit({ VERSION: "v1a\n" }, "v1a");
    await repo.commit({ VERSION: "v1b\n" }, "v1b");
    const a = idOf(await h.say(`deploy hello prod ${shaA}`, { follow: false }));
    const b = idOf(await h.say("deploy hello prod", { follow: false }));
    const [fa, fb] = await Promise.all([h.follow(a.deploymentId, a.since), h.follow(b.deploymentId, b.since)]);
    expect(fa.final?.type, fa.text).toBe("deployment.succeeded");
    expect(fb.final?.type, fb.text).toBe("deployment.succeeded");
    if (fa.final?.type !== "deployment.succeeded" || fb.final?.type !== "deployment.succeeded") return;
    expect(before?.toReleaseId).toBeTruthy();
    // b asked while release N served, but by the time it ran, a had put N+1 in place: b replaced N+1.
    expect(fb.final.previousRelease).toBe(fa.final.release);
    expect(fb.text).toContain(`replacing v${fa.final.release}`);
    expect(fb.text).toContain(`to undo: rollback hello prod v${fa.final.release}`);
    for (const p of await live("hello")) expect(await httpGet(p.host, p.port!)).toContain("hello from v1b");
  }, 60_000);

  it("two apps deploy in parallel: their running windows overlap", async () => {
    await repo.commit({ VERSION: "v2\n" }, "v2");
    const a = idOf(await h.say("deploy hello prod", { follow: false }));
    const b = idOf(await h.say("deploy hello2 prod", { follow: false }));
    const [fa, fb] = await Promise.all([h.follow(a.deploymentId, a.since), h.follow(b.deploymentId, b.since)]);
    expect(fa.final?.type, fa.text).toBe("deployment.succeeded");
    expect(fb.final?.type, fb.text).toBe("deployment.succeeded");
    expect(streamOrder(started(fa).id, terminal(fb).id)).toBe(-1);
    expect(streamOrder(started(fb).id, terminal(fa).id)).toBe(-1);
    // And both really ran steps side by side: b's build started before a's teardown finished.
    const bBuild = eventOf(fb, (e) => e.type === "step.started" && e.step === "build", "b build");
    const aEnd = terminal(fa);
    expect(streamOrder(bBuild.id, aEnd.id)).toBe(-1);
    for (const app of ["hello", "hello2"]) {
      const rows = await live(app);
      expect(rows).toHaveLength(app === "hello" ? 2 : 1);
      for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v2");
    }
  }, 60_000);

  it("cancel of a queued deployment ends it before it starts; the one ahead is unaffected", async () => {
    await repo.commit({ VERSION: "v3\n" }, "v3");
    const a = idOf(await h.say("deploy hello prod", { follow: false }));
    const b = idOf(await h.say("deploy hello prod", { follow: false }));
    const cancel = await h.say(`cancel ${b.deploymentId}`);
    expect(cancel.reply.kind, cancel.text).toBe("done");
    expect(cancel.text).toBe(`${b.deploymentId} cancelled.`);
    const [fa, fb] = await Promise.all([h.follow(a.deploymentId, a.since), h.follow(b.deploymentId, b.since)]);
    expect(fb.final?.type, fb.text).toBe("deployment.cancelled");
    expect(fb.events.some((e) => e.type === "deployment.started" || e.type === "step.started")).toBe(false);
    expect(fb.text).toMatch(/cancelled by U_TEST/);
    expect(fa.final?.type, fa.text).toBe("deployment.succeeded");
    const [row] = await h.engine.db.select().from(deployments).where(eq(deployments.id, b.deploymentId));
    expect(row!.status).toBe("cancelled");
    expect(await h.engine.db.select().from(procs).where(eq(procs.deploymentId, b.deploymentId))).toEqual([]);
    const rows = await live("hello");
    expect(rows).toHaveLength(2);
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain("hello from v3");
    // Cancelling it again says it is over.
    const again = await h.say(`cancel ${b.deploymentId}`);
    expect(again.reply.kind).toBe("refused");
    expect(again.text).toContain("already ended (cancelled)");
  }, 60_000);
});
