import { describe, expect, it } from "vitest";
import { parse } from "../../bot/grammar.ts";
import { BUTTON_VALUE_PATTERNS, commandText } from "../../bot/slack/input.ts";
import { howToReply } from "../../bot/slack/reply.ts";
import { answerText } from "../../bot/notify/blocks.ts";
import { HeadUpdates } from "../../bot/notify/head-updates.ts";

describe("commandText: Slack's markup back to what was typed", () => {
  it.each([
    ["<@UBOT> deploy web production", "deploy web production"],
    ["<@UBOT|raptor>: deploy web production", "deploy web production"],
    ["  <@UBOT>   status   web  ", "status   web"],
    ["<@UOTHER> deploy web", "<@UOTHER> deploy web"],
    ["deploy web@v1.4.2 to production", "deploy web@v1.4.2 to production"],
    ["lock web production <#C123|web> is &lt;busy&gt; &amp; frozen", "lock web production #web is &lt;busy&gt; &amp; frozen"],
    ["config set web staging ADMIN=<mailto:a@b.co|a@b.co>", "config set web staging ADMIN=a@b.co"],
    ["config set web staging URL=<https://x.example/hook>", "config set web staging URL=https://x.example/hook"],
    // What is typed is what is set (issue 11 item 2): whitespace and quotes are the grammar's to read.
    ["reject d-1 \u201cnot today\u201d", "reject d-1 \u201cnot today\u201d"],
    ['config set app local MOTD="two  spaces,\ttab" SIG="it\u2019s -- ok"', 'config set app local MOTD="two  spaces,\ttab" SIG="it\u2019s -- ok"'],
    ["<@UBOT>", ""],
  ])("%j -> %j", (raw, text) => expect(commandText(raw, "UBOT")).toBe(text));
});

describe("what is typed in Slack is what is set (issue 11 item 2)", () => {
  it("keeps spaces, tabs and curly apostrophes inside quoted values", () => {
    const raw = 'config set app local MOTD="two  spaces,\ttab" SIG="it\u2019s -- ok" Q=\u201cquoted \u2018inner\u2019\u201d';
    expect(parse(commandText(raw, "UBOT"))).toEqual({
      ok: true,
      command: { kind: "config-set", app: "app", env: "local", vars: { MOTD: "two  spaces,\ttab", SIG: "it\u2019s -- ok", Q: "quoted \u2018inner\u2019" } },
    });
  });
});

describe("HTML entities are decoded once, not twice (issue 8)", () => {
  it.each([
    // What a person typed -> what Slack sends -> what Raptor must read.
    ["is &lt;busy&gt; & frozen", "is <busy> & frozen"],
    ["is &amp;lt;b&amp;gt; literally", "is &lt;b&gt; literally"],
    ["&amp;amp;", "&amp;"],
  ])("Slack text %j reads as %j", (sent, typed) => {
    const r = parse(commandText(`lock web production ${sent}`, "UBOT"));
    expect(r).toMatchObject({ ok: true, command: { kind: "lock", reason: typed } });
  });
});

describe("the text field next to blocks escapes user text as the blocks do (issue 8)", () => {
  it.each([
    [{ kind: "answer", title: "web production", text: "locked by U1 (<!channel> deploy freeze)" }],
    [{ kind: "refused", text: "web production is locked by U1 (<!here> & <@U2>)." }],
    [{ kind: "done", text: "Locked web production: <!everyone>" }],
  ] as const)("%j: no mention or broadcast reaches Slack's text", (reply) => {
    const text = answerText(reply as Parameters<typeof answerText>[0]);
    expect(text).not.toMatch(/<[!@#]/);
    expect(text).toMatch(/&lt;[!@]/);
  });
});

describe("button values are checked before dispatch", () => {
  it.each([
    ["raptor_approve", "approve d-41", true],
    ["raptor_approve", "approve d-41; deploy x y", false],
    ["raptor_reject", "reject 0b9e2c1a-77f4-4b8e-9a4b-1c3f2e9d8a7b", true],
    ["raptor_rollback", "rollback web production v41", true],
    ["raptor_rollback", "rollback web production", false],
    ["raptor_rollback", "deploy web production", false],
    ["raptor_confirm", "scale! hello local web=0", true],
    ["raptor_confirm", "scale! hello local web=0 worker=2", true],
    ["raptor_confirm", "scale hello local web=0", false],
    ["raptor_confirm", "deploy! hello local", false],
    ["raptor_confirm", "rollback! hello local v14", true],
    ["raptor_confirm", "rollback! hello local", false],
    ["raptor_confirm", "rollback! hello local v14; reboot", false],
  ])("%s %j -> %s", (id, value, ok) => expect(BUTTON_VALUE_PATTERNS[id]!.test(value)).toBe(ok));
});

describe("reply policy", () => {
  it.each([
    ["command", "parse_error", "ephemeral"],
    ["command", "refused", "ephemeral"],
    ["command", "answer", "visible"],
    ["command", "deployment", "ephemeral"],
    ["mention", "parse_error", "ephemeral"],
    ["mention", "answer", "visible"],
    ["mention", "deployment", "none"],
    ["dm", "refused", "visible"],
    ["dm", "deployment", "none"],
    ["action", "refused", "ephemeral"],
    ["action", "done", "none"],
  ] as const)("%s + %s -> %s", (source, kind, how) => expect(howToReply(source, kind)).toBe(how));
});

describe("HeadUpdates (coalescing)", () => {
  it("sends the latest state per deployment, spaced per channel, resolving every caller", async () => {
    const sent: [string, number][] = [];
    const u = new HeadUpdates<number>(async (h, s) => void sent.push([h.deploymentId, s]), 20);
    const head = (d: string) => ({ channel: "C1", ts: "1.1", deploymentId: d });
    const all = [u.schedule(head("a"), 1), u.schedule(head("a"), 2), u.schedule(head("b"), 1), u.schedule(head("a"), 3)];
    await Promise.all(all);
    expect(sent).toEqual([
      ["a", 3],
      ["b", 1],
    ]);
    expect(u.size).toBe(0);
  });

  it("spaces edits from when Slack answered the previous one, not from when it was sent (a slow edit is not followed at once)", async () => {
    const arrived: number[] = [];
    const t0 = Date.now();
    // Each edit takes 60 ms to reach Slack; the interval is 50 ms.
    const u = new HeadUpdates<number>(async () => {
      await new Promise((r) => setTimeout(r, 60));
      arrived.push(Date.now() - t0);
    }, 50);
    const head = (d: string) => ({ channel: "C1", ts: "1.1", deploymentId: d });
    await Promise.all([u.schedule(head("a"), 1), u.schedule(head("b"), 1), u.schedule(head("c"), 1)]);
    // Counted from the request, the next edit started while the previous one was on its way, and
    // they arrived 50 ms apart minus the lag; counted from the answer, at least interval + lag.
    for (let i = 1; i < arrived.length; i++) expect(arrived[i]! - arrived[i - 1]!).toBeGreaterThanOrEqual(105);
  });

  it("sends an urgent edit (a deployment's end) before the edits already waiting in its channel", async () => {
    const sent: string[] = [];
    const u = new HeadUpdates<number>(async (h) => void sent.push(h.deploymentId), 5);
    const head = (d: string, channel = "C1") => ({ channel, ts: "1.1", deploymentId: d });
    const all = [u.schedule(head("a"), 1), u.schedule(head("b"), 1), u.schedule(head("x", "C2"), 1), u.schedule(head("c"), 1), u.schedule(head("d"), 1, { urgent: true }), u.schedule(head("b"), 2, { urgent: true })];
    await Promise.all(all);
    // In C1: d and b (urgent, in the order they were first queued: b before d), then a and c.
    expect(sent.filter((d) => d !== "x")).toEqual(["b", "d", "a", "c"]);
    expect(sent).toContain("x");
  });
});
