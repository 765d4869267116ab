import { describe, expect, it } from "vitest";
import type { EngineEvent, EngineEventBody } from "../../engine/event-types.ts";
import { reduceThread, type ThreadState } from "../../bot/notify/thread.ts";
import {
  ACTION_IDS,
  answerBlocks,
  escapeMrkdwn,
  failureBlocks,
  headBlocks,
  logBlocks,
  summaryBlocks,
  type ActionsBlock,
  type Block,
  type SectionBlock,
} from "../../bot/notify/blocks.ts";
import { blocksTextLength } from "../../bot/notify/message-fit.ts";

let seq = 0;
function fold(bodies: EngineEventBody[]): ThreadState {
  let s: ThreadState | undefined;
  for (const b of bodies) s = reduceThread(s, { ...b, id: `1-${++seq}`, deploymentId: "d-9", at: "2023-11-14T22:13:20.000Z" } as EngineEvent);
  return s!;
}

const queued: EngineEventBody = {
  type: "deployment.queued",
  kind: "deploy",
  app: "web",
  env: "production",
  requestedBy: "U111",
  origin: "slack:C1",
  summary: "deploy web production v1.4.2",
  steps: ["resolve", "build", "start", "uptest"],
  behind: [],
  fromRelease: 41,
};

/** All mrkdwn text of the blocks, joined: what a reader sees. */
function textOf(blocks: Block[]): string {
  return blocks
    .map((b) => (b.type === "section" ? b.text.text : b.type === "context" ? b.elements.map((e) => e.text).join(" ") : ""))
    .join("\n");
}
function buttons(blocks: Block[]) {
  return blocks.filter((b): b is ActionsBlock => b.type === "actions").flatMap((b) => b.elements);
}

/** Slack's limits, checked on every rendering the tests make. */
function expectWithinLimits(blocks: Block[]) {
  expect(blocks.length).toBeLessThanOrEqual(50);
  // All blocks' text together: Slack refuses more with msg_blocks_too_long (block-kit.ts SLACK_LIMITS).
  expect(blocksTextLength(blocks)).toBeLessThanOrEqual(12_000);
  for (const b of blocks) {
    if (b.type === "section") expect(b.text.text.length).toBeLessThanOrEqual(3000);
    if (b.type === "context") expect(b.elements.length).toBeLessThanOrEqual(10);
    for (const btn of b.type === "actions" ? b.elements : []) {
      expect(btn.text.text.length).toBeLessThanOrEqual(75);
      expect(btn.value.length).toBeLessThanOrEqual(2000);
    }
  }
}

describe("headBlocks", () => {
  it("says who asked for what and from which release, with every step pending", () => {
    const blocks = headBlocks(fold([queued]));
    expectWithinLimits(blocks);
    const text = textOf(blocks);
    expect(text).toContain("*Deploy* `web` to `production`");
    expect(text).toContain("<@U111> asked: `deploy web production v1.4.2`");
    // Not "v41 → new": whether a release is cut is known only at the release step (issue 11 trial).
    expect(text).toContain("Release: v41 serving");
    expect(text).not.toContain("→ new");
    expect(text).toContain(":white_circle: resolve");
    expect(text).toContain("Deployment `d-9`");
    expect(buttons(blocks)).toEqual([]);
  });

  it("fills the checklist in live: done with duration and note, running with progress", () => {
    const s = fold([
      queued,
      { type: "deployment.started" },
      { type: "step.finished", step: "resolve", durationMs: 300, summary: "v1.4.2 -> 3f2a1c9" },
      { type: "step.finished", step: "build", durationMs: 4200, summary: "reused build 3f2a1c" },
      { type: "step.started", step: "start" },
      { type: "step.progress", step: "start", message: "3/6 procs up" },
    ]);
    const steps = (headBlocks(s).find((b) => b.type === "section" && b.block_id === "steps") as SectionBlock).text.text.split("\n");
    expect(steps).toEqual([
      ":white_check_mark: resolve  300ms  _v1.4.2 -&gt; 3f2a1c9_",
      ":white_check_mark: build  4.2s  _reused build 3f2a1c_",
      ":hourglass_flowing_sand: *start*  _3/6 procs up_",
      ":white_circle: uptest",
    ]);
    expect(textOf(headBlocks(s))).toContain(":hourglass_flowing_sand: running");
  });

  it("offers Approve / Reject while awaiting approval", () => {
    const s = fold([queued, { type: "deployment.awaiting_approval", approvers: ["@leads", "U222"], expiresAt: "2023-11-14T23:00:00.000Z" }]);
    const blocks = headBlocks(s);
    expectWithinLimits(blocks);
    expect(textOf(blocks)).toContain("Needs approval from @leads, <@U222> before <!date^1700002800^");
    expect(buttons(blocks).map((b) => [b.action_id, b.text.text, b.value, b.style])).toEqual([
      [ACTION_IDS.approve, "Approve", "approve d-9", "primary"],
      [ACTION_IDS.reject, "Reject", "reject d-9", "danger"],
    ]);
  });

  it("shows the outcome and who decided afterwards, without buttons", () => {
    const approved = headBlocks(fold([queued, { type: "deployment.awaiting_approval", approvers: ["@leads"], expiresAt: "x" }, { type: "deployment.approved", by: "U222" }]));
    expect(buttons(approved)).toEqual([]);
    expect(textOf(approved)).toContain("Approved by <@U222>");
    const rejected = headBlocks(fold([queued, { type: "deployment.awaiting_approval", approvers: ["@leads"], expiresAt: "x" }, { type: "deployment.rejected", by: "U333", reason: "freeze <!channel>" }]));
    expect(buttons(rejected)).toEqual([]);
    expect(textOf(rejected)).toContain("Rejected by <@U333>: freeze &lt;!channel&gt;");
    expect(textOf(rejected)).toContain(":no_entry: rejected by <@U333>");
  });

  it("shows the release change and commit when done", () => {
    const s = fold([queued, { type: "deployment.succeeded", release: 42, previousRelease: 41, commit: "3f2a1c9d", hosts: [], durationMs: 72_000 }]);
    expect(textOf(headBlocks(s))).toContain("Release: v41 → v42 · commit `3f2a1c9`");
    expect(textOf(headBlocks(s))).toContain("succeeded in 1m 12s");
  });

  it("escapes what people typed so it cannot ping or link", () => {
    const s = fold([{ ...queued, summary: "deploy <!here> & <http://evil|x>", requestedBy: "mallory <@U1>" } as EngineEventBody]);
    const text = textOf(headBlocks(s));
    expect(text).not.toContain("<!here>");
    expect(text).toContain("deploy &lt;!here&gt; &amp; &lt;http://evil|x&gt;");
    expect(text).toContain("mallory &lt;@U1&gt; asked");
  });
});

describe("summaryBlocks", () => {
  const succeeded = fold([
    queued,
    {
      type: "deployment.succeeded",
      release: 42,
      previousRelease: 41,
      commit: "3f2a1c9d",
      hosts: [
        { host: "app1", procs: ["web:5001", "web:5002"] },
        { host: "app2", procs: ["web:5001"] },
      ],
      durationMs: 72_000,
    },
  ]);

  it("release, procs per host, duration and a Rollback button to the replaced release", () => {
    const blocks = summaryBlocks(succeeded);
    expectWithinLimits(blocks);
    const text = textOf(blocks);
    expect(text).toContain("is now *v42* (`3f2a1c9`), replacing v41 — took 1m 12s");
    expect(text).toContain("3 procs on 2 hosts:\n*app1*  `web:5001` `web:5002`\n*app2*  `web:5001`");
    const [rollback, ...more] = buttons(blocks);
    expect(more).toEqual([]);
    expect(rollback).toMatchObject({ action_id: ACTION_IDS.rollback, value: "rollback web production v41", text: { text: "Roll back to v41" } });
    expect(rollback?.confirm?.text.text).toContain("back to v41");
  });

  it("no Rollback button for a scale (the release did not change)", () => {
    const s = fold([{ ...queued, kind: "scale", fromRelease: 42 } as EngineEventBody, { type: "deployment.succeeded", release: 42, previousRelease: 42, hosts: [], durationMs: 1 }]);
    expect(buttons(summaryBlocks(s))).toEqual([]);
  });

  it("many hosts stay within one section with a count of the rest", () => {
    const hosts = Array.from({ length: 400 }, (_, i) => ({ host: `app${i}.internal`, procs: ["web:5001", "web:5002", "worker"] }));
    const s = fold([queued, { type: "deployment.succeeded", release: 42, previousRelease: 41, hosts, durationMs: 1 }]);
    const blocks = summaryBlocks(s);
    expectWithinLimits(blocks);
    expect(textOf(blocks)).toMatch(/_… and \d+ more hosts_/);
  });

  it("failure: where, why, the code", () => {
    const s = fold([queued, { type: "deployment.failed", code: "uptest_failed", message: "uptest web:5001 exited 1", step: "uptest", durationMs: 30_000 }]);
    const text = textOf(summaryBlocks(s));
    expect(text).toContain(":x: *Deploy* `web` to `production` failed at *uptest* — took 30.0s");
    expect(text).toContain("> uptest web:5001 exited 1 (`uptest_failed`)");
    expect(buttons(summaryBlocks(s))).toEqual([]);
  });

  it("cancelled and rejected say by whom; unfinished renders nothing", () => {
    expect(textOf(summaryBlocks(fold([queued, { type: "deployment.cancelled", by: "U555", durationMs: 1000 }])))).toContain("cancelled by <@U555> — after waiting 1.0s");
    expect(textOf(summaryBlocks(fold([queued, { type: "deployment.rejected", by: "U666", reason: "no" }])))).toContain("rejected by <@U666>: no");
    expect(summaryBlocks(fold([queued]))).toEqual([]);
  });
});

describe("logBlocks / failureBlocks", () => {
  it("short log: title and the whole text in a code block", () => {
    const blocks = logBlocks("compile log", "-----> Node.js app detected\n<done>");
    expect(blocks).toHaveLength(2);
    expect((blocks[0] as SectionBlock).text.text).toBe("*compile log*");
    expect((blocks[1] as SectionBlock).text.text).toBe("```-----&gt; Node.js app detected\n&lt;done&gt;```");
  });

  it("long log: keeps the tail, says how many earlier lines were dropped, stays under 3000", () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `step ${i}: npm http fetch GET 200 https://registry.npmjs.org/pkg-${i}`);
    const blocks = logBlocks("compile log", lines.join("\n"));
    expectWithinLimits(blocks);
    const body = (blocks[1] as SectionBlock).text.text;
    expect(body.length).toBeLessThanOrEqual(3000);
    expect(body).toMatch(/^_… (\d+) earlier lines not shown_\n```/);
    const omitted = Number(/… (\d+) earlier/.exec(body)![1]);
    const shown = body.split("```")[1]!.split("\n");
    expect(omitted + shown.length).toBe(1000);
    expect(shown.at(-1)).toBe(lines.at(-1));
  });

  it("a ``` inside a log cannot close the code block", () => {
    const body = (logBlocks("t", "a ``` b")[1] as SectionBlock).text.text;
    expect(body.match(/```/g)).toHaveLength(2);
  });

  it("failure: step, message, code and the tail of the output", () => {
    const s = fold([queued]);
    const blocks = failureBlocks(s, { step: "uptest", code: "uptest_failed", message: "uptest web:5001 exited 1", output: "x\n".repeat(5000) + "curl: (7) Failed to connect" });
    expectWithinLimits(blocks);
    expect((blocks[0] as SectionBlock).text.text).toBe(":x: *uptest* failed (`uptest_failed`): uptest web:5001 exited 1");
    expect((blocks[1] as SectionBlock).text.text).toMatch(/earlier lines not shown_\n```[\s\S]*curl: \(7\) Failed to connect```$/);
  });
});

describe("answerBlocks", () => {
  it.each([
    [{ kind: "parse_error", text: "unknown command `deplyo`: did you mean `deploy`?" } as const, ":warning: unknown command `deplyo`: did you mean `deploy`?"],
    [{ kind: "refused", code: "policy_denied", text: "you may not deploy web production" } as const, ":no_entry: you may not deploy web production"],
    [{ kind: "done", text: "approved d-1" } as const, ":white_check_mark: approved d-1"],
    [{ kind: "deployment", deploymentId: "d-1", text: "deploying web production" } as const, ":rocket: deploying web production"],
  ])("%o", (reply, text) => {
    expect(answerBlocks(reply)).toEqual([{ type: "section", text: { type: "mrkdwn", text } }]);
  });

  it("a long answer is split into sections, within 50 blocks, with a note", () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `web.${i}  app${i % 9}:5${i}  RUNNING`).join("\n");
    const blocks = answerBlocks({ kind: "answer", title: "status web", text });
    expectWithinLimits(blocks);
    expect((blocks[0] as SectionBlock).text.text).toBe("*status web*");
    expect((blocks[1] as SectionBlock).text.text.startsWith("web.0  app0:50  RUNNING")).toBe(true);
    expect(blocks.at(-1)).toMatchObject({ type: "context" });
    expect(textOf(blocks)).toMatch(/_… \d+ more lines \(\d+ kB\) not shown\. Narrow the question to see the rest\._/);
  });

  it("escapes", () => {
    expect(escapeMrkdwn("<!channel> & <@U1>")).toBe("&lt;!channel&gt; &amp; &lt;@U1&gt;");
  });
});
