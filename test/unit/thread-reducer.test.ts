import { describe, expect, it } from "vitest";
import type { EngineEvent, EngineEventBody } from "../../engine/event-types.ts";
import { isFinished, reduceThread, type ThreadState } from "../../bot/notify/thread.ts";

let seq = 0;
function ev(body: EngineEventBody, deploymentId = "d-1"): EngineEvent {
  seq++;
  return { ...body, id: `1700000000000-${seq}`, deploymentId, at: new Date(1_700_000_000_000 + seq * 1000).toISOString() } as EngineEvent;
}

const queued = (extra: Partial<Extract<EngineEventBody, { type: "deployment.queued" }>> = {}) =>
  ev({
    type: "deployment.queued",
    kind: "deploy",
    app: "web",
    env: "production",
    requestedBy: "U111",
    origin: "slack:C1",
    summary: "deploy web production",
    steps: ["resolve", "build", "release", "start", "uptest", "route", "teardown"],
    behind: [],
    fromRelease: 41,
    ...extra,
  });

function fold(events: EngineEvent[], start?: ThreadState): ThreadState {
  let s = start;
  for (const e of events) s = reduceThread(s, e);
  if (!s) throw new Error("no events");
  return s;
}

describe("reduceThread", () => {
  it("queued: who asked, what, from which release, steps pending", () => {
    const s = fold([queued({ behind: ["d-0"] })]);
    expect(s).toMatchObject({
      deploymentId: "d-1",
      kind: "deploy",
      app: "web",
      env: "production",
      requestedBy: "U111",
      origin: "slack:C1",
      summary: "deploy web production",
      status: "queued",
      fromRelease: 41,
      rollbackTarget: 41,
      behind: ["d-0"],
      errors: [],
    });
    expect(s.steps.map((x) => [x.name, x.status])).toEqual([
      ["resolve", "pending"],
      ["build", "pending"],
      ["release", "pending"],
      ["start", "pending"],
      ["uptest", "pending"],
      ["route", "pending"],
      ["teardown", "pending"],
    ]);
  });

  const table: { name: string; events: () => EngineEvent[]; expect: (s: ThreadState) => void }[] = [
    {
      name: "step started -> running, progress kept while running",
      events: () => [queued(), ev({ type: "deployment.started" }), ev({ type: "step.started", step: "start" }), ev({ type: "step.progress", step: "start", message: "3/6 procs up" })],
      expect: (s) => {
        expect(s.status).toBe("running");
        expect(s.steps.find((x) => x.name === "start")).toEqual({ name: "start", status: "running", progress: "3/6 procs up" });
      },
    },
    {
      name: "step finished -> succeeded with duration and summary, progress dropped",
      events: () => [
        queued(),
        ev({ type: "step.started", step: "build" }),
        ev({ type: "step.progress", step: "build", message: "compiling" }),
        ev({ type: "step.finished", step: "build", durationMs: 4200, summary: "reused build 3f2a1c" }),
      ],
      expect: (s) => expect(s.steps.find((x) => x.name === "build")).toEqual({ name: "build", status: "succeeded", durationMs: 4200, note: "reused build 3f2a1c" }),
    },
    {
      name: "step skipped keeps the reason",
      events: () => [queued(), ev({ type: "step.skipped", step: "build", reason: "build exists" })],
      expect: (s) => expect(s.steps.find((x) => x.name === "build")).toEqual({ name: "build", status: "skipped", note: "build exists" }),
    },
    {
      name: "a step the plan did not list is appended",
      events: () => [queued({ steps: ["resolve"] }), ev({ type: "step.started", step: "release_hook" })],
      expect: (s) => expect(s.steps.map((x) => x.name)).toEqual(["resolve", "release_hook"]),
    },
    {
      name: "awaiting approval: approvers and expiry",
      events: () => [queued(), ev({ type: "deployment.awaiting_approval", approvers: ["@leads"], expiresAt: "2023-11-14T23:00:00.000Z" })],
      expect: (s) => {
        expect(s.status).toBe("awaiting_approval");
        expect(s.approval).toEqual({ approvers: ["@leads"], expiresAt: "2023-11-14T23:00:00.000Z" });
      },
    },
    {
      name: "approved: who decided, back to queued until started",
      events: () => [queued(), ev({ type: "deployment.awaiting_approval", approvers: ["@leads"], expiresAt: "x" }), ev({ type: "deployment.approved", by: "U222" })],
      expect: (s) => {
        expect(s.status).toBe("queued");
        expect(s.approval).toEqual({ approvers: ["@leads"], expiresAt: "x", decision: "approved", by: "U222" });
      },
    },
    {
      name: "rejected: finished, who and why",
      events: () => [queued(), ev({ type: "deployment.awaiting_approval", approvers: ["@leads"], expiresAt: "x" }), ev({ type: "deployment.rejected", by: "U222", reason: "not on a Friday" })],
      expect: (s) => {
        expect(s.status).toBe("rejected");
        expect(isFinished(s)).toBe(true);
        expect(s.approval).toMatchObject({ decision: "rejected", by: "U222", reason: "not on a Friday" });
      },
    },
    {
      name: "succeeded: release, commit short sha, hosts, rollback target = replaced release",
      events: () => [
        queued(),
        ev({ type: "deployment.started" }),
        ev({ type: "deployment.succeeded", release: 42, previousRelease: 41, commit: "3f2a1c9d8e7f6a5b", hosts: [{ host: "app1", procs: ["web:5001"] }], durationMs: 72_000 }),
      ],
      expect: (s) => {
        expect(s).toMatchObject({ status: "succeeded", fromRelease: 41, toRelease: 42, commit: "3f2a1c9", rollbackTarget: 41, durationMs: 72_000 });
        expect(s.result).toEqual({ release: 42, previousRelease: 41, hosts: [{ host: "app1", procs: ["web:5001"] }], durationMs: 72_000 });
        expect(s.finishedAt).toBeDefined();
      },
    },
    {
      name: "succeeded without a release change (scale): no rollback target",
      events: () => [queued({ kind: "scale", fromRelease: 42 }), ev({ type: "deployment.succeeded", release: 42, previousRelease: 42, hosts: [], durationMs: 1000 })],
      expect: (s) => expect(s.rollbackTarget).toBeUndefined(),
    },
    {
      name: "step failed then deployment failed with the same message: one error, with output",
      events: () => [
        queued(),
        ev({ type: "step.started", step: "uptest" }),
        ev({ type: "step.failed", step: "uptest", durationMs: 12_000, message: "uptest web:5001 exited 1", output: "curl: (7) refused" }),
        ev({ type: "deployment.failed", code: "uptest_failed", message: "uptest web:5001 exited 1", step: "uptest", durationMs: 30_000 }),
      ],
      expect: (s) => {
        expect(s.status).toBe("failed");
        expect(s.errors).toEqual([{ step: "uptest", message: "uptest web:5001 exited 1", output: "curl: (7) refused" }]);
        expect(s.failure).toEqual({ code: "uptest_failed", message: "uptest web:5001 exited 1", step: "uptest", durationMs: 30_000 });
        expect(s.steps.find((x) => x.name === "uptest")).toMatchObject({ status: "failed", durationMs: 12_000 });
      },
    },
    {
      name: "deployment failed without a step failure: error recorded, step marked failed",
      events: () => [queued(), ev({ type: "step.started", step: "resolve" }), ev({ type: "deployment.failed", code: "lock_held", message: "web production is locked", step: "resolve", durationMs: 50 })],
      expect: (s) => {
        expect(s.errors).toEqual([{ code: "lock_held", message: "web production is locked", step: "resolve" }]);
        expect(s.steps[0]).toMatchObject({ name: "resolve", status: "failed", note: "web production is locked" });
      },
    },
    {
      name: "cancelled: running step stops, who cancelled",
      events: () => [queued(), ev({ type: "step.started", step: "build" }), ev({ type: "deployment.cancelled", by: "U333", durationMs: 5000 })],
      expect: (s) => {
        expect(s).toMatchObject({ status: "cancelled", cancelledBy: "U333", durationMs: 5000 });
        expect(s.steps.find((x) => x.name === "build")).toMatchObject({ status: "skipped", note: "cancelled" });
      },
    },
    {
      name: "logs do not change the state (except the position)",
      events: () => [queued(), ev({ type: "step.log", step: "build", title: "compile", text: "x".repeat(10) })],
      expect: (s) => expect(s.steps.every((x) => x.status === "pending")).toBe(true),
    },
  ];

  for (const t of table) {
    it(t.name, () => t.expect(fold(t.events())));
  }

  it("records the last event id and never mutates its input", () => {
    const s1 = fold([queued()]);
    const frozen = JSON.parse(JSON.stringify(s1));
    const e = ev({ type: "step.started", step: "resolve" });
    const s2 = reduceThread(s1, e);
    expect(s1).toEqual(frozen);
    expect(s2.lastEventId).toBe(e.id);
    expect(s2).not.toBe(s1);
  });

  it("an event before deployment.queued starts a blank thread that queued later fills in", () => {
    const s = fold([ev({ type: "step.started", step: "build" }), queued()]);
    expect(s.app).toBe("web");
    expect(s.steps.find((x) => x.name === "build")?.status).toBe("running");
  });

  it("ignores events of another deployment", () => {
    const s = fold([queued()]);
    expect(reduceThread(s, ev({ type: "deployment.started" }, "d-2"))).toBe(s);
  });

  it("survives a JSON round trip (it is stored in Redis)", () => {
    const s = fold([queued(), ev({ type: "deployment.succeeded", release: 42, hosts: [], durationMs: 1 })]);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
