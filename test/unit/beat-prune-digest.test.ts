import { describe, expect, it } from "vitest";
import { digestText, envLines, summarizeDay, type DayDeployment } from "../../engine/beat/digest-text.ts";
import { goneProcDirs, planPrune, prunedTarballs, type PruneInput, type PruneRelease } from "../../engine/beat/prune-plan.ts";
import { repairEndText, repairStartText } from "../../engine/beat/repair-news.ts";
import { prunedRollbackMessage } from "../../engine/pipeline/steps/release.ts";

const day = (n: number) => new Date(Date.UTC(2026, 10, n));
/** Builds b1..bN of app `hello`, built on days 1..N. */
const builds = (n: number, app = "hello") => Array.from({ length: n }, (_, i) => ({ id: `${app}-b${i + 1}`, app, commit: `c${i + 1}`, createdAt: day(i + 1) }));
const rel = (app: string, env: string, number: number, buildId: string, config = "{}"): PruneRelease => ({ id: `${app}-${env}-v${number}`, app, env, number, buildId, content: buildId + config });
const served = (r: PruneRelease, d: number) => ({ app: r.app, env: r.env, releaseId: r.id, finishedAt: day(d) });
const base = (over: Partial<PruneInput>): PruneInput => ({ keepBuilds: 2, builds: [], releases: [], served: [], liveReleaseIds: new Set(), open: [], ...over });
const kept = (input: PruneInput) => Object.fromEntries([...planPrune(input).keep.entries()].sort());
const pruned = (input: PruneInput) => planPrune(input).prune.map((b) => b.id);

describe("planPrune: what the prune job keeps (pure)", () => {
  it("keeps the N newest builds of each app and prunes the rest, oldest first", () => {
    const input = base({ builds: [...builds(5), ...builds(1, "web")] });
    expect(kept(input)).toEqual({ "hello-b4": "newest", "hello-b5": "newest", "web-b1": "newest" });
    expect(pruned(input)).toEqual(["hello-b1", "hello-b2", "hello-b3"]);
  });

  it("keeps the build a live proc runs, however old", () => {
    const v1 = rel("hello", "prod", 1, "hello-b1");
    expect(kept(base({ builds: builds(4), releases: [v1], liveReleaseIds: new Set([v1.id]) }))).toEqual({ "hello-b1": "live", "hello-b3": "newest", "hello-b4": "newest" });
  });

  it("keeps every release that served among each environment's last N releases; one that never served is not a target", () => {
    // prod: v1 (b1) served, v2 (b2) failed, v3 (b3) served; staging: v1 (b1) served.
    const releases = [rel("hello", "prod", 1, "hello-b1"), rel("hello", "prod", 2, "hello-b2"), rel("hello", "prod", 3, "hello-b3"), rel("hello", "staging", 1, "hello-b1")];
    const input = base({ keepBuilds: 2, builds: builds(6), releases, served: [served(releases[0]!, 1), served(releases[2]!, 3), served(releases[3]!, 1)] });
    // prod's last 2 releases are v2 (never served) and v3; staging's last is v1 (b1). b3 is also
    // the bare-rollback target of nothing (prod's current), b1 is prod's bare-rollback target.
    expect(kept(input)).toEqual({ "hello-b1": "rollback", "hello-b3": "rollback", "hello-b5": "newest", "hello-b6": "newest" });
    expect(pruned(input)).toEqual(["hello-b2", "hello-b4"]);
  });

  it("keeps the bare `rollback` target even when it is older than the last N releases", () => {
    // v1 (b1) served; then v2..v4 re-released b2 with other configs and served; keep 1.
    const releases = [rel("hello", "prod", 1, "hello-b1"), rel("hello", "prod", 2, "hello-b2", "a"), rel("hello", "prod", 3, "hello-b2", "a"), rel("hello", "prod", 4, "hello-b3")];
    const s = [served(releases[0]!, 1), served(releases[1]!, 2), served(releases[2]!, 3), served(releases[3]!, 4)];
    const input = base({ keepBuilds: 1, builds: builds(3), releases, served: s });
    expect(kept(input)).toEqual({ "hello-b2": "rollback", "hello-b3": "newest" });
    // Rolled back to b1 since: b1 is now serving (current), and the bare target is v4's b3.
    const back = rel("hello", "prod", 5, "hello-b1");
    const again = base({ keepBuilds: 1, builds: builds(3), releases: [...releases, back], served: [...s, served(back, 5)], liveReleaseIds: new Set([back.id]) });
    expect(kept(again)).toEqual({ "hello-b1": "live", "hello-b3": "newest" });
  });

  it("keeps what unfinished deployments may start: their build, commit, releases and a queued rollback's target", () => {
    const releases = [rel("hello", "prod", 1, "hello-b1"), rel("hello", "prod", 2, "hello-b2")];
    const open = [
      { app: "hello", env: "prod", commit: "c3", buildId: null, fromReleaseId: null, toReleaseId: null },
      { app: "hello", env: "prod", commit: null, buildId: null, fromReleaseId: null, toReleaseId: null, rollbackTo: 1 },
      { app: "hello", env: "prod", commit: null, buildId: "hello-b4", fromReleaseId: releases[1]!.id, toReleaseId: null },
    ];
    expect(kept(base({ keepBuilds: 1, builds: builds(6), releases, open }))).toEqual({ "hello-b1": "in_flight", "hello-b2": "in_flight", "hello-b3": "in_flight", "hello-b4": "in_flight", "hello-b6": "newest" });
  });

  it("keeps nothing twice and prunes nothing on an empty store", () => {
    expect(planPrune(base({}))).toEqual({ keep: new Map(), prune: [] });
  });
});

describe("host listings (pure)", () => {
  it("removes tarballs of pruned builds only; other files and unknown builds stay", () => {
    expect(prunedTarballs(["hello-b1.tar.gz", "hello-b2.tar.gz", "notes.txt", "x.tar.gz.tmp", "unknown.tar.gz"], new Set(["hello-b1", "hello-b9"]))).toEqual(["hello-b1"]);
  });
  it("a proc dir is gone when Raptor named it and neither a live proc nor supervisord has it", () => {
    const isProc = (n: string) => /-v\d+-/.test(n);
    expect(goneProcDirs(["hello-prod-v1-web-5000", "hello-prod-v2-web-5001", "hello-prod-v2-web-5002", "handmade"], isProc, new Set(["hello-prod-v2-web-5001"]), new Set(["hello-prod-v2-web-5002"]))).toEqual([
      "hello-prod-v1-web-5000",
    ]);
  });
});

describe("rollback to a pruned build (pure text)", () => {
  it("says the build was pruned, when, and the deploy that builds it again", () => {
    expect(prunedRollbackMessage({ app: "hello", env: "prod", number: 2 }, { commit: "0123456789abcdef", prunedAt: new Date("2026-11-30T03:00:04Z") })).toBe(
      "cannot roll hello prod back to v2: its build (commit 0123456) was pruned on 2026-11-30 by the beat's prune job, which keeps only recent builds and rollback targets. Deploy that commit again to build it anew: `deploy hello prod 0123456`.",
    );
  });
});

describe("the digest (pure)", () => {
  const dep = (id: string, over: Partial<DayDeployment> = {}): DayDeployment => ({ id, kind: "deploy", app: "hello", env: "prod", status: "succeeded", errorCode: null, ...over });
  const deployments = [
    dep("d-1"),
    dep("d-2", { status: "failed", errorCode: "uptest_failed" }),
    dep("d-3", { kind: "rollback" }),
    dep("d-4", { kind: "repair" }),
    dep("d-5", { kind: "repair", status: "failed", errorCode: "no_hosts" }),
    dep("d-6", { app: "web", env: "staging", status: "cancelled" }),
  ];
  const runs = [
    { job: "reconcile", detail: { repairs: [{ app: "hello", env: "prod", deploymentId: "d-4", findings: ["hello-prod-v3-web-5000 on a is FATAL", "2 web procs short of the swarm"], kinds: ["crashed", "missing", "missing"] }], skipped: [] } },
    { job: "reconcile", detail: { repairs: [{ app: "hello", env: "prod", deploymentId: "d-0", findings: ["recorded before kinds were kept"] }] } },
    { job: "orphans", detail: { removed: [{ host: "b", name: "hello-prod-v2-web-5001" }, { host: "b", name: "handmade" }] } },
    { job: "hosts", detail: { changes: [{ host: "c", state: "down" }, { host: "c", state: "up" }] } },
  ];
  const until = new Date("2026-11-30T09:00:00Z");

  it.each([
    ["nothing happened: no digest", [], [], undefined],
    [
      "a day of deployments, failures, repairs and drift",
      deployments,
      runs,
      [
        "digest of the day to 2026-11-30 09:00 UTC:",
        "hello prod: 3 deployments (2 succeeded, 1 failed), 2 repairs, drift: 5",
        "  failed: d-2 deploy (uptest_failed); d-5 repair (no_hosts)",
        "  drift: crashed 1, short of the swarm 2, orphan programs removed 1, other 1",
        "web staging: 1 deployment (1 cancelled), 0 repairs, drift: 0",
        "hosts: c down, c up",
      ].join("\n"),
    ],
    ["only a host went down", [], [runs[3]!], "digest of the day to 2026-11-30 09:00 UTC:\nhosts: c down, c up"],
  ] as const)("%s", (_name, ds, rs, text) => {
    expect(digestText(until, summarizeDay(ds, rs))).toBe(text);
  });

  it("lists at most 5 failures, then how many more", () => {
    const many = Array.from({ length: 7 }, (_, i) => dep(`d-${i}`, { status: "failed", errorCode: "proc_failed" }));
    expect(envLines(summarizeDay(many, []).envs[0]!)[1]).toBe("  failed: d-0 deploy (proc_failed); d-1 deploy (proc_failed); d-2 deploy (proc_failed); d-3 deploy (proc_failed); d-4 deploy (proc_failed); and 2 more");
  });
});

describe("repair news for the environment's other channels (pure text)", () => {
  it("names what was wrong and where the thread is, then how it ended", () => {
    expect(repairStartText("hello", "prod", "d-1", ["a is FATAL", "1 web proc short of the swarm"], "slack:#hello")).toBe("repairing hello prod (d-1): a is FATAL; 1 web proc short of the swarm. Its thread is in #hello.");
    expect(repairEndText("hello", "prod", "d-1", "succeeded")).toBe("repair d-1 of hello prod succeeded: it runs as its swarm says again.");
    expect(repairEndText("hello", "prod", "d-1", "failed", "no healthy host")).toBe("repair d-1 of hello prod failed: no healthy host.");
  });
});
