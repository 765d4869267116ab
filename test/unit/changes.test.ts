import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { withoutVerbatimMarks } from "../../lib/verbatim.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planText } from "../../bot/answers/plan-text.ts";
import { deployRequestsText, releaseHistoryText, whoDeployedText } from "../../bot/answers/history-text.ts";
import { headBlocks, rollbackConfirmText, summaryBlocks, type Block } from "../../bot/notify/blocks.ts";
import { commitLines, configLines, revertText } from "../../bot/notify/changes-text.ts";
import { renderTerminal } from "../../bot/notify/terminal-lines.ts";
import { reduceThread, type ThreadState } from "../../bot/notify/thread.ts";
import { commitRange, mirrorPath } from "../../engine/builds/git.ts";
import { valueShower } from "../../engine/changes/mask.ts";
import type { ChangePlan } from "../../engine/changes/plan.ts";
import { planProcChange, type LiveProc } from "../../engine/changes/procs.ts";
import { diffConfig, type CommitRange } from "../../engine/changes/types.ts";
import type { EngineEvent, EngineEventBody } from "../../engine/event-types.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";

/** Issue 13 items 1, 3, 4: the pure parts of plan, diffs and history, as tables. */

const show = valueShower(new Set(["MARKED"]), ["playbook-secret-value"]);

describe("diffConfig with the secrets rules", () => {
  it.each([
    [{}, { A: "1" }, { added: [{ key: "A", value: "1" }], changed: [], removed: [] }],
    [{ A: "1" }, {}, { added: [], changed: [], removed: ["A"] }],
    [{ A: "1", B: "x" }, { A: "2", B: "x" }, { added: [], changed: [{ key: "A", from: "1", to: "2" }], removed: [] }],
    // secret by key name, by a password in a URL, by a `config secret` mark, by a playbook secret inside a value
    [{ API_TOKEN: "abc12345" }, { API_TOKEN: "def67890" }, { added: [], changed: [{ key: "API_TOKEN", from: "[REDACTED]", to: "[REDACTED]" }], removed: [] }],
    [{}, { DATABASE_URL: "postgres://u:pw@db/app" }, { added: [{ key: "DATABASE_URL", value: "[REDACTED]" }], changed: [], removed: [] }],
    [{}, { MARKED: "plain" }, { added: [{ key: "MARKED", value: "[REDACTED]" }], changed: [], removed: [] }],
    [{}, { MOTD: "see playbook-secret-value here" }, { added: [{ key: "MOTD", value: "see [REDACTED] here" }], changed: [], removed: [] }],
  ])("%j -> %j", (before, after, expected) => {
    expect(diffConfig(before, after, show)).toEqual(expected);
  });
});

const c = (n: number) => ({ sha: `aaaa${String(n).padStart(3, "0")}`, subject: `change ${n}`, author: "Ann" });

describe("commit and config lines", () => {
  it("lists up to 10 commits, then says how many more", () => {
    const r: CommitRange = { from: "1111111", to: "2222222", added: Array.from({ length: 10 }, (_, i) => c(i)), addedCount: 13, removed: [], removedCount: 0 };
    const lines = commitLines(r);
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe("  + aaaa000 change 0 — Ann");
    expect(lines[10]).toBe("    … and 3 more");
  });
  it("a rollback's commits leave, marked -", () => {
    const r: CommitRange = { from: "2222222", to: "1111111", added: [], addedCount: 0, removed: [c(1)], removedCount: 1 };
    expect(commitLines(r)).toEqual(["  - aaaa001 change 1 — Ann"]);
  });
  it("a subject with newlines stays one line and long ones are cut", () => {
    const r: CommitRange = { to: "2222222", added: [{ sha: "abcdef1", subject: `x\ny${"z".repeat(100)}`, author: "A" }], addedCount: 1, removed: [], removedCount: 0 };
    const [line] = commitLines(r);
    expect(line).not.toContain("\n");
    expect(line!.length).toBeLessThan(100);
    expect(line).toContain("…");
  });
  it("config lines: added, changed, removed", () => {
    expect(configLines({ added: [{ key: "N", value: "1" }], changed: [{ key: "G", from: "hi", to: "howdy" }], removed: ["OLD"] })).toEqual(["  + N=1", "  ~ G: hi → howdy", "  - OLD"]);
  });
});

describe("planProcChange: the start step's placement, run as a pure function", () => {
  const p = (host: string, port: number, releaseId: string, createdAt = 0): LiveProc => ({ host, port, name: `hello-prod-v1-web-${port}`, procType: "web", releaseId, status: "routed", createdAt: new Date(createdAt) });
  const loads = (hosts: string[], live: LiveProc[], releaseId: string) =>
    hosts.map((host) => ({ host, swarmProcs: { web: live.filter((x) => x.host === host && x.releaseId === releaseId).length }, totalProcs: live.filter((x) => x.host === host).length, usedPorts: new Set(live.filter((x) => x.host === host).map((x) => x.port!)) }));
  const base = { listens: (t: string) => t === "web", ports: { from: 5000, to: 5009 } };

  it("a new release starts a whole swarm spread over the hosts and stops every old proc", () => {
    const live = [p("a", 5000, "r1"), p("b", 5000, "r1")];
    const out = planProcChange({ ...base, mode: "release", sizes: { web: 2 }, live, servingReleaseId: "r1", loads: loads(["a", "b"], live, "") });
    expect(out.start).toEqual([{ host: "a", procType: "web", port: 5001 }, { host: "b", procType: "web", port: 5001 }]);
    expect(out.stop.map((s) => `${s.host}:${s.port}`)).toEqual(["a:5000", "b:5000"]);
    expect(out.poolAdd).toEqual(["a:5001", "b:5001"]);
    expect(out.poolRemove).toEqual(["a:5000", "b:5000"]);
  });
  it("scale up tops up the serving release on the least loaded host", () => {
    const live = [p("a", 5000, "r1"), p("a", 5001, "r1")];
    const out = planProcChange({ ...base, mode: "topUp", sizes: { web: 3 }, live, servingReleaseId: "r1", loads: loads(["a", "b"], live, "r1") });
    expect(out.start).toEqual([{ host: "b", procType: "web", port: 5000 }]);
    expect(out.stop).toEqual([]);
  });
  it("scale down stops the newest procs on the busiest host", () => {
    const live = [p("a", 5000, "r1", 1), p("a", 5001, "r1", 2), p("b", 5000, "r1", 3)];
    const out = planProcChange({ ...base, mode: "topUp", sizes: { web: 2 }, live, servingReleaseId: "r1", loads: loads(["a", "b"], live, "r1") });
    expect(out.stop.map((s) => `${s.host}:${s.port}`)).toEqual(["a:5001"]);
    expect(out.poolRemove).toEqual(["a:5001"]);
  });
  it("no free port is reported, not thrown", () => {
    const live = Array.from({ length: 10 }, (_, i) => p("a", 5000 + i, "r1"));
    const out = planProcChange({ ...base, mode: "release", sizes: { web: 1 }, live, loads: loads(["a"], live, "") });
    expect(out.problem).toBe("no free port left in 5000-5009 on any host of the squad");
  });
});

const plan: ChangePlan = {
  kind: "deploy",
  app: "hello",
  env: "prod",
  serving: { number: 3, commit: "1111111aaaa" },
  target: { commit: "2222222bbbb", source: "main" },
  commits: { from: "1111111", to: "2222222", added: [c(1), c(2)], addedCount: 2, removed: [], removedCount: 0 },
  config: { added: [{ key: "NEW", value: "1" }], changed: [{ key: "API_TOKEN", from: "[REDACTED]", to: "[REDACTED]" }], removed: ["OLD"] },
  unchanged: false,
  procs: { start: [{ host: "h1", procType: "web", port: 5002 }], stop: [{ host: "h1", name: "hello-prod-v3-web-5001", procType: "web", port: 5001 }], poolAdd: ["h1:5002"], poolRemove: ["h1:5001"] },
  pool: { balancer: "lb", name: "hello_prod" },
  obstacles: ["hello prod is locked by U1 (migrating); `unlock hello prod` first.", "it needs approval from @leads (within 30m of asking)."],
  notes: [],
};

describe("planText", () => {
  it("says what serves, what would, commits, config, procs per host, pool, and what is in the way", () => {
    const { title, text } = planText(plan, "deploy hello prod");
    expect(title).toBe("plan: deploy hello prod");
    expect(text.split("\n")).toEqual([
      "v3 (1111111) → main → 2222222 as a new release",
      "commits 1111111..2222222: 2 new commits",
      "  + aaaa001 change 1 — Ann",
      "  + aaaa002 change 2 — Ann",
      "config:",
      "  + NEW=1",
      "  ~ API_TOKEN: [REDACTED] → [REDACTED]",
      "  - OLD",
      "procs: 1 start, 1 stop",
      "  h1: start web:5002; stop hello-prod-v3-web-5001",
      "pool hello_prod (balancer lb): + h1:5002; - h1:5001",
      "in the way:",
      "  • hello prod is locked by U1 (migrating); `unlock hello prod` first.",
      "  • it needs approval from @leads (within 30m of asking).",
      "Nothing was run. To do it: `deploy hello prod`",
    ]);
  });
  it("a scale names no commits or config, and nothing in the way says so", () => {
    const { text } = planText({ ...plan, kind: "scale", target: undefined, commits: undefined, config: undefined, obstacles: [] }, "scale hello prod web=2");
    expect(text).toContain("v3 (1111111) → v3 (1111111) resized");
    expect(text).not.toContain("commits");
    expect(text).toContain("nothing in the way.");
  });
  it("git not answering is said, not fatal", () => {
    expect(planText({ ...plan, commits: { error: "no worker answered" } }, "deploy hello prod").text).toContain("commits: unknown (no worker answered)");
  });
});

describe("history texts", () => {
  const now = new Date("2026-11-30T12:00:00Z");
  it("releases: who, when, commit range, config keys, how it ended", () => {
    const text = releaseHistoryText(
      [
        { number: 3, createdAt: new Date("2026-11-30T10:00:00Z"), createdBy: "U2", description: "config set GREETING", commit: "bbbbbbb", previousCommit: "bbbbbbb", configKeys: ["GREETING"], outcome: { deploymentId: "d-3", status: "failed", errorCode: "uptest_failed" }, served: false, current: false },
        { number: 2, createdAt: new Date("2026-11-30T09:00:00Z"), createdBy: "U1", description: "deploy bbbbbbb", commit: "bbbbbbb", previousCommit: "aaaaaaa", configKeys: [], outcome: { deploymentId: "d-2", status: "succeeded" }, served: true, current: true },
        { number: 1, createdAt: new Date("2026-11-28T12:00:00Z"), createdBy: "U1", description: "deploy aaaaaaa", commit: "aaaaaaa", served: true, current: false, outcome: { deploymentId: "d-1", status: "succeeded" } },
      ],
      now,
    );
    expect(text.split("\n")).toEqual([
      "  v3  2026-11-30 10:00 UTC (2h ago) by U2: config set GREETING; commits bbbbbbb; config GREETING — failed (uptest_failed), never served (d-3)",
      "▶ v2  2026-11-30 09:00 UTC (3h ago) by U1: deploy bbbbbbb; commits aaaaaaa..bbbbbbb — serving (d-2)",
      "  v1  2026-11-28 12:00 UTC (2d ago) by U1: deploy aaaaaaa; commits aaaaaaa — served, replaced later (d-1)",
    ]);
  });
  it("deploys: requests and refusals, newest first, with outcomes", () => {
    const text = deployRequestsText(
      [
        { at: new Date("2026-11-30T11:00:00Z"), actor: "U2", asked: "deploy hello prod", outcome: "refused", refusal: "lock_held" },
        { at: new Date("2026-11-30T10:00:00Z"), actor: "U1", asked: "deploy hello prod", outcome: "requested", deployment: { id: "d-1", status: "succeeded", release: 4 }, approval: { status: "approved", by: "U3" } },
      ],
      now,
      "2d",
      "hello",
      "prod",
    );
    // As Slack and raptor.log read it (the command as typed is marked verbatim for the terminal).
    expect(withoutVerbatimMarks(text).split("\n")).toEqual([
      "2 requests in the last 2d, newest first:",
      "2026-11-30 11:00 UTC (1h ago) U2: `deploy hello prod` — refused: lock_held",
      "2026-11-30 10:00 UTC (2h ago) U1: `deploy hello prod` — succeeded, v4, approved by U3 (d-1)",
    ]);
    expect(deployRequestsText([], now, "2d", "hello", "prod")).toBe("no deployments of hello prod were asked for in the last 2d.");
  });
  it("who deployed: the serving one, then the ones before", () => {
    const e = { deploymentId: "d-2", kind: "deploy", requestedBy: "U1", asked: "deploy hello prod", finishedAt: new Date("2026-11-30T11:30:00Z"), release: 2, commit: "bbbbbbb" };
    expect(withoutVerbatimMarks(whoDeployedText("hello", "prod", e, [{ ...e, deploymentId: "d-1", release: 1, commit: "aaaaaaa", asked: undefined, kind: "rollback" }], now)).split("\n")).toEqual([
      "hello prod serves v2, put in place by U1 (`deploy hello prod`) — v2 (bbbbbbb), 2026-11-30 11:30 UTC (30m ago) (d-2)",
      "before that:",
      "  U1 (rollback) — v1 (aaaaaaa), 2026-11-30 11:30 UTC (30m ago) (d-1)",
    ]);
    expect(whoDeployedText("hello", "prod", undefined, [], now)).toBe("hello prod has never been deployed.");
  });
});

let seq = 0;
function fold(bodies: EngineEventBody[]): ThreadState {
  let s: ThreadState | undefined;
  for (const b of bodies) s = reduceThread(s, { ...b, id: `1-${++seq}`, deploymentId: "d-9", at: "2026-11-30T12:00:00.000Z" } as EngineEvent);
  return s!;
}
const textOf = (blocks: Block[]) => blocks.map((b) => (b.type === "section" ? b.text.text : "")).join("\n");

describe("diffs in the thread (issue 13 item 3)", () => {
  const queued: EngineEventBody = { type: "deployment.queued", kind: "deploy", app: "web", env: "prod", requestedBy: "U1", origin: "slack:C1", summary: "deploy web prod", steps: ["resolve", "release"], behind: [], fromRelease: 4 };
  const changes: EngineEventBody = {
    type: "deployment.changes",
    fromRelease: 4,
    toRelease: 5,
    commits: { from: "1111111", to: "2222222", added: [{ sha: "2222222", subject: "<!channel> fix & ship", author: "Eve <eve@x>" }], addedCount: 1, removed: [], removedCount: 0 },
    config: { added: [], changed: [{ key: "API_TOKEN", from: "[REDACTED]", to: "[REDACTED]" }, { key: "GREETING", from: "hi", to: "howdy" }], removed: ["OLD"] },
  };
  const succeeded: EngineEventBody = {
    type: "deployment.succeeded",
    release: 5,
    previousRelease: 4,
    commit: "2222222",
    hosts: [],
    durationMs: 1000,
    revert: { release: 4, commit: "1111111", createdAt: "2026-11-30T10:00:00.000Z", config: { added: [], changed: [{ key: "GREETING", from: "howdy", to: "hi" }], removed: [], } },
  };

  it("the head shows the commit range and the config keys", () => {
    const text = textOf(headBlocks(fold([queued, changes])));
    expect(text).toContain("Commits `1111111..2222222`: 1 new commit");
    expect(text).toContain("Config: ~API_TOKEN ~GREETING -OLD");
  });
  it("the summary lists commits (escaped) and config values (secrets masked)", () => {
    const text = textOf(summaryBlocks(fold([queued, changes, succeeded])));
    expect(text).toContain("+ 2222222 &lt;!channel&gt; fix &amp; ship — Eve &lt;eve@x&gt;");
    expect(text).toContain("~ API_TOKEN: [REDACTED] → [REDACTED]");
    expect(text).toContain("~ GREETING: hi → howdy");
    expect(text).not.toContain("<!channel>");
  });
  it("the Rollback confirmation says release, commit, age and config difference", () => {
    const s = fold([queued, changes, succeeded]);
    expect(rollbackConfirmText(s)).toBe("Roll web prod back to v4 (commit 1111111, cut 2h ago); config: ~GREETING: howdy → hi? This starts a new deployment.");
    const confirm = summaryBlocks(s).flatMap((b) => (b.type === "actions" ? b.elements : []))[0]?.confirm;
    expect(confirm?.text.text).toBe(rollbackConfirmText(s));
  });
  it("a long config difference is cut to Slack's 300 characters, the question kept", () => {
    const many = { ...succeeded, revert: { release: 4, createdAt: "2026-11-30T10:00:00.000Z", config: { added: Array.from({ length: 40 }, (_, i) => ({ key: `KEY_${i}`, value: "v".repeat(30) })), changed: [], removed: [] } } } as EngineEventBody;
    const text = rollbackConfirmText(fold([queued, changes, many]));
    expect(text.length).toBeLessThanOrEqual(300);
    expect(text.endsWith("? This starts a new deployment.")).toBe(true);
  });
  it("the terminal prints the changes and what undo would revert to", () => {
    const s1 = fold([queued]);
    const s2 = reduceThread(s1, { ...changes, id: "1-900", deploymentId: "d-9", at: "2026-11-30T12:00:00.000Z" } as EngineEvent);
    expect(renderTerminal(s1, s2, { ...changes, id: "1-900", deploymentId: "d-9", at: "2026-11-30T12:00:00.000Z" } as EngineEvent)).toEqual([
      "  changes v4 → v5:",
      "    commits 1111111..2222222: 1 new commit",
      "      + 2222222 <!channel> fix & ship — Eve <eve@x>",
      "    config:",
      "      ~ API_TOKEN: [REDACTED] → [REDACTED]",
      "      ~ GREETING: hi → howdy",
      "      - OLD",
    ]);
    const ev = { ...succeeded, id: "1-901", deploymentId: "d-9", at: "2026-11-30T12:00:00.000Z" } as EngineEvent;
    const s3 = reduceThread(s2, ev);
    expect(renderTerminal(s2, s3, ev)).toContain("  to undo: rollback web prod v4 — reverts to v4 (commit 1111111, cut 2h ago); config: ~GREETING: howdy → hi");
  });
  it("revertText with no config difference", () => {
    expect(revertText({ release: 2, createdAt: "2026-11-30T11:00:00Z", config: { added: [], changed: [], removed: [] } }, new Date("2026-11-30T12:00:00Z"))).toBe("v2 (cut 1h ago); config: the same");
  });
});

describe("commitRange on a real repository (argv-only git)", () => {
  let repo: AppRepo;
  let dataDir: string;
  const shas: string[] = [];
  beforeAll(async () => {
    repo = await makeAppRepo(HELLO_APP, { VERSION: "0\n" });
    dataDir = await mkdtemp(join(tmpdir(), "raptor-range-"));
    for (let i = 1; i <= 12; i++) shas.push(await repo.commit({ VERSION: `${i}\n` }, `release ${i}; $(touch /tmp/pwned) \`id\``));
  }, 60_000);
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("lists the newest 10 of 12 new commits with subject and author, counting all", async () => {
    const r = await commitRange(repo.path, repo.initial, shas[11]!, { dataDir });
    expect(r.addedCount).toBe(12);
    expect(r.added).toHaveLength(10);
    expect(r.added[0]).toEqual({ sha: shas[11]!.slice(0, 7), subject: "release 12; $(touch /tmp/pwned) `id`", author: "Raptor Test" });
    expect(r.removedCount).toBe(0);
  });
  it("going back lists the commits that leave", async () => {
    const r = await commitRange(repo.path, shas[11]!, shas[9]!, { dataDir });
    expect(r.addedCount).toBe(0);
    expect(r.removed.map((x) => x.sha)).toEqual([shas[11]!.slice(0, 7), shas[10]!.slice(0, 7)]);
  });
  it("a first deploy has no from", async () => {
    const r = await commitRange(repo.path, undefined, shas[0]!, { dataDir });
    expect(r.from).toBeUndefined();
    expect(r.addedCount).toBe(2);
  });
  it("the same commit on both sides (a config change) lists nothing", async () => {
    expect(await commitRange(repo.path, shas[3]!, shas[3]!, { dataDir })).toEqual({ from: shas[3]!.slice(0, 7), to: shas[3]!.slice(0, 7), added: [], addedCount: 0, removed: [], removedCount: 0 });
  });
  it("reads commits already in the mirror while another process holds its lock (its fetch does not hold up every release of the repo)", async () => {
    await commitRange(repo.path, repo.initial, shas[11]!, { dataDir }); // the mirror has both
    const lock = `${mirrorPath(repo.path, { dataDir })}.lock`;
    await mkdir(lock); // what another worker's withMirrorLock holds while it fetches
    try {
      const late = new Promise<"held up">((r) => setTimeout(() => r("held up"), 3_000));
      const r = await Promise.race([commitRange(repo.path, shas[5]!, shas[7]!, { dataDir }), late]);
      expect(r).toMatchObject({ addedCount: 2, removedCount: 0 });
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  });
});
