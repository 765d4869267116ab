import { describe, expect, it } from "vitest";
import { withoutVerbatimMarks } from "../../lib/verbatim.ts";
import type { EngineEvent, EngineEventBody } from "../../engine/event-types.ts";
import { reduceThread, type ThreadState } from "../../bot/notify/thread.ts";
import { approvalWaitLines, renderTerminal } from "../../bot/notify/terminal-lines.ts";
import { formatDuration, parseOrigin, truncateTail } from "../../bot/notify/format.ts";
import { replyLines, ThreadBoard, threadTag } from "../../bot/terminal.ts";
import { replayThread } from "../../bot/answers/show.ts";
import { renderHostsCheck } from "../../bot/answers/hosts-check.ts";
import { strong } from "../../bot/notify/markup.ts";
import { answerBlocks } from "../../bot/notify/blocks.ts";
import { lockText } from "../../bot/answers/fleet.ts";
import { newsFilter } from "../../bot/terminal-news.ts";

let seq = 0;
function ev(body: EngineEventBody): EngineEvent {
  seq++;
  return { ...body, id: `1-${seq}`, deploymentId: "d-7", at: "2023-11-14T22:13:20.000Z" } as EngineEvent;
}

/** Feeds events through the reducer and the terminal renderer, collecting every printed line. */
function transcript(bodies: EngineEventBody[]): string[] {
  let state: ThreadState | undefined;
  const out: string[] = [];
  for (const b of bodies) {
    const e = ev(b);
    const next = reduceThread(state, e);
    out.push(...renderTerminal(state, next, e));
    state = next;
  }
  return out;
}

const queued: EngineEventBody = {
  type: "deployment.queued",
  kind: "deploy",
  app: "web",
  env: "production",
  requestedBy: "alice",
  origin: "terminal",
  summary: "deploy web production",
  steps: ["resolve", "build", "uptest"],
  behind: [],
  fromRelease: 41,
};

describe("renderTerminal", () => {
  it("prints the whole thread of a successful deployment", () => {
    expect(
      transcript([
        queued,
        { type: "deployment.started" },
        { type: "step.started", step: "resolve" },
        { type: "step.finished", step: "resolve", durationMs: 310, summary: "main -> 3f2a1c9" },
        { type: "step.started", step: "build" },
        { type: "step.log", step: "build", title: "compile log", text: "-----> Node.js app detected\n-----> Done\n" },
        { type: "step.finished", step: "build", durationMs: 4200, summary: "reused build 3f2a1c" },
        { type: "step.skipped", step: "uptest", reason: "no uptests" },
        {
          type: "deployment.succeeded",
          release: 42,
          previousRelease: 41,
          commit: "3f2a1c9aaaaaaaa",
          hosts: [
            { host: "app1", procs: ["web:5001", "web:5002"] },
            { host: "app2", procs: ["web:5001"] },
          ],
          durationMs: 72_000,
        },
      ]),
    ).toEqual([
      "▶ Deploy web production — alice asked: deploy web production  [d-7]",
      "  now serving: v41",
      "  steps: resolve → build → uptest",
      "  started",
      "  … resolve",
      "  ✓ resolve  310ms  (main -> 3f2a1c9)",
      "  … build",
      "    ── compile log ──",
      "    -----> Node.js app detected",
      "    -----> Done",
      "  ✓ build  4.2s  (reused build 3f2a1c)",
      "  – uptest  no uptests",
      "✓ Deploy web production is now v42 (3f2a1c9), replacing v41 — took 1m 12s",
      "  app1: web:5001 web:5002",
      "  app2: web:5001",
      "  to undo: rollback web production v41",
    ]);
  });

  it("prints a failure with its output once", () => {
    const lines = transcript([
      queued,
      { type: "step.started", step: "uptest" },
      { type: "step.failed", step: "uptest", durationMs: 12_000, message: "uptest exited 1", output: "connection refused" },
      { type: "deployment.failed", code: "uptest_failed", message: "uptest exited 1", step: "uptest", output: "connection refused", durationMs: 15_000 },
    ]);
    expect(lines.slice(-3)).toEqual([
      "  ✗ uptest  12.0s  uptest exited 1",
      "    connection refused",
      "✗ Deploy web production failed at uptest after 15.0s (uptest_failed): uptest exited 1",
    ]);
  });

  // Issue 11 item 8: a failed build's log once; the duration never glued to the log's last line.
  it("prints a failed build's log once, with cleanup notes after it, and the duration on the outcome line", () => {
    const log = "compile line 59\ncompile line 60\nnpm ERR! missing script: build";
    const lines = transcript([
      queued,
      { type: "step.started", step: "build" },
      { type: "step.failed", step: "build", durationMs: 312, message: "build of web 84d69d0 failed: bin/compile exited with 1", output: log },
      { type: "deployment.failed", code: "build_failed", message: "build of web 84d69d0 failed: bin/compile exited with 1", step: "build", output: `${log}\n\ncleanup: removed 0 new procs`, durationMs: 400 },
    ]);
    expect(lines.filter((l) => l.includes("compile line 60"))).toHaveLength(1);
    expect(lines.slice(-2)).toEqual([
      "✗ Deploy web production failed at build after 400ms (build_failed): build of web 84d69d0 failed: bin/compile exited with 1",
      "    cleanup: removed 0 new procs",
    ]);
  });

  // Issue 11 item 7: messages that are so.
  it.each<[string, EngineEventBody[], string[]]>([
    [
      "a deploy that changes nothing says so",
      [queued, { type: "deployment.succeeded", release: 41, commit: "337230e", hosts: [{ host: "h1", procs: ["web:5000"] }], durationMs: 1400, unchanged: true }],
      ["✓ Deploy web production: nothing changed, v41 (337230e) already serves this build and config — took 1.4s", "  h1: web:5000"],
    ],
    [
      "scale does not announce a new release",
      [{ ...queued, kind: "scale", summary: "scale web production web=3" } as EngineEventBody],
      ["▶ Scale web production — alice asked: scale web production web=3  [d-7]", "  steps: resolve → build → uptest"],
    ],
    [
      // Issue 11 trial: the head of a deploy that changed nothing said "release: v3 → new".
      "a deploy that changes nothing never announces a new release",
      [queued, { type: "deployment.succeeded", release: 41, commit: "337230e", hosts: [{ host: "h1", procs: ["web:5000"] }], durationMs: 1400, unchanged: true }],
      ["▶ Deploy web production — alice asked: deploy web production  [d-7]", "  now serving: v41", "  steps: resolve → build → uptest", "✓ Deploy web production: nothing changed, v41 (337230e) already serves this build and config — took 1.4s", "  h1: web:5000"],
    ],
    [
      // Issue 11 trial: restart said "replacing v3" (the engine sent no release for a restart).
      "a restart runs the serving release and replaces nothing",
      [{ ...queued, kind: "restart", summary: "restart web production", steps: ["restart"] } as EngineEventBody, { type: "deployment.succeeded", release: 41, hosts: [{ host: "h1", procs: ["web:5000"] }], durationMs: 2000 }],
      ["✓ Restart web production done, v41 serving — took 2.0s", "  h1: web:5000"],
    ],
    [
      "a restart whose outcome names no release still replaces nothing",
      [{ ...queued, kind: "restart", summary: "restart web production", steps: ["restart"] } as EngineEventBody, { type: "deployment.succeeded", previousRelease: 41, hosts: [], durationMs: 2000 }],
      ["✓ Restart web production done, v41 serving — took 2.0s"],
    ],
    [
      "a first deploy names no release it replaced",
      [{ ...queued, fromRelease: undefined } as EngineEventBody, { type: "deployment.succeeded", release: 1, commit: "337230e", hosts: [], durationMs: 1000 }],
      ["✓ Deploy web production is now v1 (337230e) — took 1.0s"],
    ],
    [
      "a cancel before start gives the real waiting time",
      [queued, { type: "deployment.cancelled", by: "bob", durationMs: 185_000 }],
      ["✗ Deploy web production cancelled by bob — after waiting 3m 05s"],
    ],
  ])("%s", (_name, bodies, tail) => {
    const lines = transcript(bodies);
    expect(lines.slice(-tail.length)).toEqual(tail);
  });

  it("prints who must approve, until when (one time format) and the command an approver runs, then the decision", () => {
    const lines = transcript([queued, { type: "deployment.awaiting_approval", approvers: ["@leads", "lead"], expiresAt: "2026-11-30T05:04:09.860Z" }, { type: "deployment.approved", by: "lead" }]);
    expect(lines.slice(-3)).toEqual([
      "  ⏸ needs approval from @leads, lead before 2026-11-30 05:04 UTC (not from alice: no one approves their own request)",
      '    one of them runs: RAPTOR_USER=lead bin/raptor say "approve d-7"  (or "reject d-7 <reason>")',
      "  ✓ approved by lead",
    ]);
  });

  it("the example approver is never the asker, nor a group", () => {
    expect(approvalWaitLines(["@leads", "alice", "bob"], "2026-11-30T05:04:09.860Z", "d-7", "alice")[1]).toBe('    one of them runs: RAPTOR_USER=bob bin/raptor say "approve d-7"  (or "reject d-7 <reason>")');
    expect(approvalWaitLines(["@leads"], "2026-11-30T05:04:09.860Z", "d-7", "alice")[1]).toContain("RAPTOR_USER=<approver> ");
  });

  it("keeps the tail of a long log with a note", () => {
    const text = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n");
    const lines = transcript([queued, { type: "step.log", step: "build", title: "compile", text }]);
    expect(lines.at(-1)).toBe("    line 4999");
    expect(lines.some((l) => /^ {4}… \d+ earlier lines not shown$/.test(l))).toBe(true);
  });
});

describe("format helpers", () => {
  it.each([
    [312, "312ms"],
    [4200, "4.2s"],
    [59_940, "59.9s"],
    [72_000, "1m 12s"],
    [3_720_000, "1h 02m"],
  ])("formatDuration(%d) = %s", (ms, text) => expect(formatDuration(ms)).toBe(text));

  it.each([
    ["terminal", { kind: "terminal" }],
    ["slack:C123", { kind: "slack", channel: "C123" }],
    ["slack:C123:1700000000.000100", { kind: "slack", channel: "C123", threadTs: "1700000000.000100" }],
    ["slack:#web", { kind: "slack", channel: "#web" }],
    ["slack:#Web Site", { kind: "unknown", raw: "slack:#Web Site" }],
  ])("parseOrigin(%s)", (origin, parsed) => expect(parseOrigin(origin)).toEqual(parsed));

  it("truncateTail keeps whole lines from the end and counts the rest", () => {
    expect(truncateTail("a\nbb\nccc", 6)).toEqual({ text: "bb\nccc", omittedLines: 1 });
    expect(truncateTail("short", 10)).toEqual({ text: "short", omittedLines: 0 });
    expect(truncateTail("x".repeat(20), 5)).toEqual({ text: "xxxxx", omittedLines: 0 });
  });
});

// Issue 11 item 11: when several deployments run at once, each line names its deployment.
describe("ThreadBoard", () => {
  const web = { app: "hello", env: "local" } as ThreadState;
  const prod = { app: "hello", env: "production" } as ThreadState;
  it("prints a lone thread as is, tags every line of threads running together, and stops when alone again", () => {
    const out: string[] = [];
    const board = new ThreadBoard((l) => out.push(l));
    const a = board.open("d-aaaa1111");
    a("▶ Deploy hello local", web);
    const b = board.open("d-bbbb2222");
    a("  ✓ build  4.2s", web);
    b("▶ Deploy hello production", prod);
    board.close("d-aaaa1111");
    b("✓ Deploy hello production is now v4", prod);
    board.close("d-bbbb2222");
    const c = board.open("d-cccc3333");
    c("▶ Restart hello local", web);
    expect(out).toEqual([
      "▶ Deploy hello local",
      "[d-aaaa1111 hello local]   ✓ build  4.2s",
      "[d-bbbb2222 hello production] ▶ Deploy hello production",
      "[d-bbbb2222 hello production] ✓ Deploy hello production is now v4",
      "▶ Restart hello local",
    ]);
  });

  it("names a deployment by id alone before its app is known", () => {
    expect(threadTag("d-aaaa1111")).toBe("[d-aaaa1111]");
    expect(threadTag("d-aaaa1111", web)).toBe("[d-aaaa1111 hello local]");
  });
});

// Issue 11 item 11: `show <id>` replays the thread from stored events.
describe("replayThread", () => {
  it("gives the lines the terminal printed live, and the thread's outcome", () => {
    const bodies: EngineEventBody[] = [queued, { type: "step.started", step: "build" }, { type: "step.finished", step: "build", durationMs: 4200, summary: "reused build 3f2a1c" }, { type: "deployment.succeeded", release: 42, previousRelease: 41, hosts: [], durationMs: 5000 }];
    const live = transcript(bodies);
    const { state, lines } = replayThread(bodies.map((b) => ev(b)));
    expect(lines).toEqual(live);
    expect(state?.status).toBe("succeeded");
    expect(lines.slice(-2)).toEqual(["✓ Deploy web production is now v42, replacing v41 — took 5.0s", "  to undo: rollback web production v41"]);
  });
});

// Issue 11 item 11: answers carry emphasis for Slack; the terminal prints plain text.
describe("replyLines: plain text in the terminal", () => {
  it.each<[string, string]>([
    ["a squad heading", renderHostsCheck([{ squad: "local", hosts: [{ host: "127.0.0.1", checks: [{ name: "local", status: "ok", detail: "this machine" }] }] }])],
    ["a status heading", `${strong("hello local")}: v3\n  127.0.0.1: web-5000 RUNNING`],
  ])("%s has no Slack markup", (_, text) => {
    const lines = replyLines({ kind: "answer", title: "t", text });
    expect(lines.join("\n")).not.toMatch(/\*[^*\s][^*]*\*|[\uE000\uE001]|:[a-z_]+:|<[^>\s]+\|[^>]+>/);
    // Slack gets the same heading in bold.
    expect(answerBlocks({ kind: "answer", title: "t", text }).map((b) => (b.type === "section" ? b.text.text : "")).join("\n")).toMatch(/\*(local|hello local)\*/);
  });
});

// Issue 11 trial: a timed lock's end was not shown by `status`, its release not announced in the terminal.
describe("locks and beat news in the terminal", () => {
  it.each<[string, { heldBy: string; reason: string | null; expiresAt: Date | null }, string]>([
    ["a timed lock shows its end", { heldBy: "U_CLI", reason: "testing", expiresAt: new Date("2026-11-30T02:00:00Z") }, "locked by U_CLI (testing) until 2026-11-30 02:00 UTC"],
    ["a lock without time holds until unlocked", { heldBy: "alice", reason: null, expiresAt: null }, "locked by alice until unlocked"],
  ])("%s", (_, lock, text) => expect(withoutVerbatimMarks(lockText(lock))).toBe(text));

  it("a report sent to several channels is news once; the same report much later is news again", () => {
    const isNews = newsFilter(60_000);
    const r = { job: "expire", text: "hello local is unlocked" };
    expect([isNews(r, 0), isNews(r, 10), isNews({ ...r, job: "hosts" }, 20), isNews(r, 70_000)]).toEqual([true, false, true, true]);
  });
});
