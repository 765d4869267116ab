import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SlackApp } from "../../bot/slack/app.ts";
import { WebClient } from "@slack/web-api";
import { BIG_LOG, FakeDispatch } from "../support/fake-dispatch.ts";
import { blockProblems, blocksTextLength, FakeSlack, MESSAGE_SIZE, type RecordedCall } from "../support/fake-slack.ts";
import { ALICE, BOB, collectingLogger, startSlackBed, stopSlackBed, type SlackBed } from "../support/slack-bed.ts";

const SECRET = "test-signing-secret";
const TOKEN = "xoxb-test-token";

let bed: SlackBed & { prefix: string };
let fake: FakeSlack;
let slack: SlackApp;
let url: string;
const dispatch = new FakeDispatch();
const logs: string[] = [];

beforeAll(async () => {
  bed = await startSlackBed({
    signingSecret: SECRET,
    botToken: TOKEN,
    users: [ALICE, BOB],
    app: { dispatch: dispatch.fn, logger: collectingLogger(logs), limits: { perUser: 2, overall: 50 } },
  });
  ({ fake, slack, url } = bed);
});

afterAll(() => stopSlackBed(bed ?? {}));

const since = () => fake.calls.length;
const dispatched = () => dispatch.requests.length;

describe("Slack app over HTTP (real Bolt, fake Slack, real Redis)", () => {
  it("verified the token with auth.test at start", () => {
    expect(fake.callsOf("auth.test").length).toBeGreaterThanOrEqual(1);
  });

  it("answers url_verification with the challenge", async () => {
    const res = await fake.urlVerification(url, "ch4ll3nge");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ challenge: "ch4ll3nge" });
  });

  it("slash command: acked with 200 at once, dispatched with actor, channel and origin, then answered", async () => {
    dispatch.delayMs = 3500; // slower than Slack's 3 s deadline: the ack must not wait for it
    const from = since();
    const n = dispatched();
    try {
      const res = await fake.slashCommand(url, { text: "status web", user: "U0ALICE", userName: "alice", channel: "C0WEB", channelName: "web" });
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(2500);
      await dispatch.waitFor(n + 1);
      expect(dispatch.requests[n]).toEqual({
        text: "status web",
        actor: { id: "U0ALICE", name: "alice", email: "alice@example.com" },
        channel: { id: "C0WEB", name: "web" },
        origin: "slack:C0WEB",
      });
      const answer = await fake.waitForCall("response_url", { from });
      expect(answer.args).toMatchObject({ response_type: "in_channel", text: "status web\nweb.1  app1:5001  RUNNING" });
    } finally {
      dispatch.delayMs = 0;
    }
  });

  it("past a person's limit of commands being answered, they are told at once that Raptor is busy (ephemeral), nothing is dispatched, others still are", async () => {
    const release = dispatch.hold();
    const n = dispatched();
    const mark = since();
    const busy = "Raptor is busy: you already have 2 commands being answered. Nothing was started for this one; send it again in a few seconds.";
    try {
      await fake.slashCommand(url, { text: "status web", user: "U0ALICE", channel: "C0WEB", channelName: "web" });
      await fake.slashCommand(url, { text: "status web", user: "U0ALICE", channel: "C0WEB", channelName: "web" });
      await dispatch.waitFor(n + 2);
      // The busy answer is the ack itself: no response_url call, shown to the author only.
      const third = await fake.slashCommand(url, { text: "deploy web production", user: "U0ALICE", channel: "C0WEB", channelName: "web" });
      expect(third.status).toBe(200);
      expect(JSON.parse(third.body)).toMatchObject({ response_type: "ephemeral", text: busy });
      // A mention has no ack body to carry it: an ephemeral message in its thread.
      const from = since();
      await fake.eventCallback(url, fake.appMentionEvent({ text: "<@UBOT0001> status web", user: "U0ALICE", channel: "C0WEB", ts: "1700000700.000100" }));
      const e = await fake.waitForCall("chat.postEphemeral", { from });
      expect(e.args).toMatchObject({ channel: "C0WEB", user: "U0ALICE", thread_ts: "1700000700.000100", text: busy });
      // Someone else is still answered.
      await fake.slashCommand(url, { text: "status web", user: "U0BOB", channel: "C0WEB", channelName: "web" });
      await dispatch.waitFor(n + 3);
    } finally {
      release();
    }
    expect(dispatch.requests.slice(n).map((r) => `${r.actor.id} ${r.text}`)).toEqual(["U0ALICE status web", "U0ALICE status web", "U0BOB status web"]);
    // Once her answers are sent, she is admitted again.
    await vi.waitUntil(() => fake.callsOf("response_url").filter((c) => c.index >= mark).length >= 3, { timeout: 5000 });
    const answered = fake.callsOf("response_url").length;
    const again = await fake.slashCommand(url, { text: "status web", user: "U0ALICE", channel: "C0WEB", channelName: "web" });
    expect(again.body).toBe("");
    await dispatch.waitFor(n + 4);
    await vi.waitUntil(() => fake.callsOf("response_url").length > answered, { timeout: 5000 });
  });

  it("slash command refusal and parse error are answered to the author only", async () => {
    const from = since();
    await fake.slashCommand(url, { text: "forbidden", user: "U0ALICE", channel: "C0WEB", channelName: "web" });
    const r = await fake.waitForCall("response_url", { from });
    expect(r.args).toMatchObject({ response_type: "ephemeral", text: "you may not do that" });
    expect((r.args.blocks as { text: { text: string } }[])[0]!.text.text).toBe(":no_entry: you may not do that");
  });

  it("refuses a forged signature and a replayed (stale) timestamp with 401, dispatching nothing", async () => {
    const n = dispatched();
    const forged = await fake.slashCommand(url, { text: "deploy web production", user: "U0ALICE", channel: "C0WEB" }, { secret: "not-the-secret" });
    expect(forged.status).toBe(401);
    const garbage = await fake.slashCommand(url, { text: "deploy web production", user: "U0ALICE", channel: "C0WEB" }, { signature: "v0=deadbeef" });
    expect(garbage.status).toBe(401);
    const stale = await fake.slashCommand(url, { text: "deploy web production", user: "U0ALICE", channel: "C0WEB" }, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    const staleEvent = await fake.eventCallback(url, fake.appMentionEvent({ text: "<@UBOT0001> deploy web production", user: "U0ALICE", channel: "C0WEB" }), { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(staleEvent.status).toBe(401);
    // A good request afterwards goes through, and it is the only one dispatched.
    await fake.slashCommand(url, { text: "status web", user: "U0ALICE", channel: "C0WEB" });
    await dispatch.waitFor(n + 1);
    expect(dispatch.requests.slice(n).map((r) => r.text)).toEqual(["status web"]);
  });

  it("the same event delivered three times (Slack retries) dispatches once", async () => {
    const n = dispatched();
    const event = fake.appMentionEvent({ text: "<@UBOT0001> deploy web production", user: "U0BOB", channel: "C0WEB" });
    const eventId = `Ev${randomUUID().slice(0, 8)}`;
    const first = await fake.eventCallback(url, event, { eventId });
    const second = await fake.eventCallback(url, event, { eventId, retryNum: 1, retryReason: "http_timeout" });
    const third = await fake.eventCallback(url, event, { eventId, retryNum: 2, retryReason: "http_timeout" });
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    await dispatch.waitFor(n + 1);
    // Then a different event: once it is dispatched, the retries above have long been handled.
    await fake.eventCallback(url, fake.appMentionEvent({ text: "<@UBOT0001> status web", user: "U0BOB", channel: "C0WEB" }));
    await dispatch.waitFor(n + 2);
    expect(dispatch.requests.slice(n).map((r) => r.text)).toEqual(["deploy web production", "status web"]);
    expect(dispatch.requests[n]).toMatchObject({ actor: { id: "U0BOB", email: "bob@example.com" }, channel: { id: "C0WEB", name: "web" }, origin: "slack:C0WEB" });
    await vi.waitUntil(() => logs.some((l) => l.includes("already handled") && l.includes(eventId)), { timeout: 5000 });
  });

  it("a mention in a thread carries the thread in the origin and is answered in that thread", async () => {
    const from = since();
    const n = dispatched();
    await fake.eventCallback(url, fake.appMentionEvent({ text: "<@UBOT0001> status web", user: "U0BOB", channel: "C0WEB", ts: "1700000500.000200", threadTs: "1700000400.000100" }));
    await dispatch.waitFor(n + 1);
    expect(dispatch.requests[n]!.origin).toBe("slack:C0WEB:1700000400.000100");
    const answer = await fake.waitForCall((c) => c.method === "chat.postMessage" && c.args.thread_ts === "1700000400.000100", { from });
    expect(answer.args).toMatchObject({ channel: "C0WEB", text: "status web\nweb.1  app1:5001  RUNNING" });
  });

  it("a mention's parse error is ephemeral to its author", async () => {
    const from = since();
    await fake.eventCallback(url, fake.appMentionEvent({ text: "<@UBOT0001> deplyo web", user: "U0BOB", channel: "C0WEB", ts: "1700000600.000100" }));
    const e = await fake.waitForCall("chat.postEphemeral", { from });
    expect(e.args).toMatchObject({ channel: "C0WEB", user: "U0BOB", thread_ts: "1700000600.000100", text: "unknown command `deplyo`" });
  });

  it("a direct message is dispatched without a channel name; bots and edits are ignored", async () => {
    const n = dispatched();
    await fake.eventCallback(url, fake.directMessageEvent({ text: "deploy web staging", user: "U0ALICE", channel: "D0ALICE", botId: "B0OTHER" }));
    await fake.eventCallback(url, fake.directMessageEvent({ text: "deploy web staging", user: "U0ALICE", channel: "D0ALICE", subtype: "message_changed" }));
    await fake.eventCallback(url, fake.directMessageEvent({ text: "deploy web staging", user: "UBOT0001", channel: "D0ALICE" }));
    await fake.eventCallback(url, fake.directMessageEvent({ text: "status web", user: "U0ALICE", channel: "D0ALICE" }));
    await dispatch.waitFor(n + 1);
    const from = since();
    await fake.eventCallback(url, fake.directMessageEvent({ text: "status api", user: "U0ALICE", channel: "D0ALICE" }));
    await dispatch.waitFor(n + 2);
    expect(dispatch.requests.slice(n).map((r) => [r.text, r.channel, r.origin])).toEqual([
      ["status web", { id: "D0ALICE" }, "slack:D0ALICE"],
      ["status api", { id: "D0ALICE" }, "slack:D0ALICE"],
    ]);
    const answer = await fake.waitForCall((c) => c.method === "chat.postMessage" && c.args.channel === "D0ALICE" && String(c.args.text).startsWith("status api"), { from });
    expect(answer.args.text).toBe("status api\nweb.1  app1:5001  RUNNING");
  });

  it("a 10 kB message gets a 'too long' reply, not a crash, and is not dispatched", async () => {
    const n = dispatched();
    const from = since();
    const res = await fake.eventCallback(url, fake.appMentionEvent({ text: `<@UBOT0001> deploy web ${"x".repeat(10_240)}`, user: "U0BOB", channel: "C0WEB", ts: "1700000700.000100" }));
    expect(res.status).toBe(200);
    const e = await fake.waitForCall("chat.postEphemeral", { from });
    expect(String(e.args.text)).toMatch(/^That command is too long \(10\d{3} characters; the limit is 4000\)/);
    const slash = await fake.slashCommand(url, { text: "y".repeat(10_240), user: "U0BOB", channel: "C0WEB" });
    expect(slash.status).toBe(200);
    const r = await fake.waitForCall((c) => c.method === "response_url" && String(c.args.text).startsWith("That command is too long"), { from });
    expect(r.args.response_type).toBe("ephemeral");
    expect(dispatched()).toBe(n);
  });

  // Issue 11 item 9: a reply larger than a message can hold is never sent as one oversized message.
  it("the fake Slack refuses an oversized message as Slack does", async () => {
    const client = new WebClient(TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    const section = (n: number) => ({ type: "section", text: { type: "mrkdwn", text: "x".repeat(n) } });
    const refused = (p: Promise<unknown>) => p.then(() => "ok", (e: { data?: { error?: string } }) => e.data?.error);
    // 43 sections of 2990 characters (128 kB): each block is valid, the message is not.
    expect(await refused(client.chat.postMessage({ channel: "C0WEB", text: "big", blocks: Array.from({ length: 43 }, () => section(2990)) }))).toBe("msg_blocks_too_long");
    expect(await refused(client.chat.postMessage({ channel: "C0WEB", text: "big", blocks: Array.from({ length: 51 }, () => section(10)) }))).toBe("invalid_blocks");
    expect(await refused(client.chat.postMessage({ channel: "C0WEB", text: "big", blocks: [section(3001)] }))).toBe("invalid_blocks");
    const posted = await client.chat.postMessage({ channel: "C0WEB", text: "t".repeat(41_000) });
    expect(posted.response_metadata?.warnings).toEqual(["message_truncated"]);
    expect(await refused(client.chat.update({ channel: "C0WEB", ts: posted.ts!, text: "t".repeat(41_000) }))).toBe("msg_too_long");
  });

  /** A message Slack took whole: within every limit, and not truncated. */
  function expectOneMessage(args: Record<string, unknown>) {
    expect(blockProblems(args.blocks)).toEqual([]);
    expect(blocksTextLength(args.blocks)).toBeLessThanOrEqual(MESSAGE_SIZE.blocksText);
    expect(String(args.text).length).toBeLessThanOrEqual(MESSAGE_SIZE.text);
  }
  const textOf = (blocks: unknown) => (blocks as { text?: { text: string }; elements?: { text: string }[] }[]).map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(" ") ?? "").join("\n");

  it("a 128 kB log answer in a thread: the whole log as a file in the thread, then one message with its tail saying where the rest is", async () => {
    const from = since();
    await fake.eventCallback(url, fake.appMentionEvent({ text: "<@UBOT0001> logs hello local", user: "U0BOB", channel: "C0WEB", ts: "1700001100.000100" }));
    const done = await fake.waitForCall("files.completeUploadExternal", { from });
    expect(done.args).toMatchObject({ channel_id: "C0WEB", thread_ts: "1700001100.000100" });
    const file = [...fake.uploads.values()].find((u) => u.filename === "logs-hello-local.txt");
    expect(file?.content).toBe(BIG_LOG);
    const post = await fake.waitForCall((c) => c.method === "chat.postMessage" && c.args.thread_ts === "1700001100.000100", { from });
    expect(post.index).toBeGreaterThan(done.index);
    expectOneMessage(post.args);
    const shown = textOf(post.args.blocks);
    expect(shown).toContain(BIG_LOG.split("\n").at(-1));
    expect(shown).not.toContain("line 00000 ");
    expect(shown).toMatch(/… \d+ earlier lines \(\d+ kB\) not shown\. The whole text is in the file `logs-hello-local\.txt` in this conversation\./);
    expect(fake.messages.find((m) => m.thread_ts === "1700001100.000100" && !m.ephemeralTo)?.truncated).toBeUndefined();
  });

  it("a 128 kB answer to a slash command fits its response_url message", async () => {
    const from = since();
    await fake.slashCommand(url, { text: "logs hello local", user: "U0ALICE", channel: "C0WEB", channelName: "web" });
    const r = await fake.waitForCall("response_url", { from });
    expectOneMessage(r.args);
    expect(r.args.response_type).toBe("in_channel");
    expect(textOf(r.args.blocks)).toContain(BIG_LOG.split("\n").at(-1));
  });

  it("Approve and Rollback buttons become commands with the presser as actor", async () => {
    const n = dispatched();
    const a = await fake.blockAction(url, { user: "U0BOB", actionId: "raptor_approve", value: "approve d-41", channel: "C0WEB", messageTs: "1700000800.000100" });
    expect(a.status).toBe(200);
    await dispatch.waitFor(n + 1);
    await fake.blockAction(url, { user: "U0ALICE", actionId: "raptor_rollback", value: "rollback web production v41", channel: "C0WEB", messageTs: "1700000900.000300", threadTs: "1700000800.000100" });
    await dispatch.waitFor(n + 2);
    expect(dispatch.requests.slice(n)).toEqual([
      { text: "approve d-41", actor: { id: "U0BOB", name: "bob", email: "bob@example.com" }, channel: { id: "C0WEB", name: "web" }, origin: "slack:C0WEB:1700000800.000100" },
      { text: "rollback web production v41", actor: { id: "U0ALICE", name: "alice", email: "alice@example.com" }, channel: { id: "C0WEB", name: "web" }, origin: "slack:C0WEB:1700000800.000100" },
    ]);
  });

  it("a double click queues one rollback; a button with a forged value is ignored", async () => {
    const n = dispatched();
    const press = () => fake.blockAction(url, { user: "U0BOB", actionId: "raptor_rollback", value: "rollback web staging v7", channel: "C0WEB", messageTs: "1700001000.000100" });
    await Promise.all([press(), press()]);
    await fake.blockAction(url, { user: "U0BOB", actionId: "raptor_rollback", value: "deploy web production; rm -rf /", channel: "C0WEB", messageTs: "1700001000.000100" });
    await fake.blockAction(url, { user: "U0BOB", actionId: "raptor_reject", value: "reject d-50", channel: "C0WEB", messageTs: "1700001000.000100" });
    await dispatch.waitFor(n + 2);
    expect(dispatch.requests.slice(n).map((r) => r.text)).toEqual(["rollback web staging v7", "reject d-50"]);
  });

  it("the authorizer resolves user ids, emails and @groups through Slack", async () => {
    fake.usergroups.push({ id: "S0LEADS", handle: "leads", users: ["U0BOB"] });
    const alice = { id: "U0ALICE" };
    const bob = { id: "U0BOB" };
    expect(await slack.authorizer.allowed(alice, [])).toBe(true);
    expect(await slack.authorizer.allowed(alice, ["U0ALICE"])).toBe(true);
    expect(await slack.authorizer.allowed(alice, ["ALICE@example.com"])).toBe(true);
    expect(await slack.authorizer.allowed(bob, ["alice@example.com"])).toBe(false);
    expect(await slack.authorizer.allowed(bob, ["@leads"])).toBe(true);
    expect(await slack.authorizer.allowed(alice, ["@leads", "@nobody"])).toBe(false);
    const from = since();
    expect(await slack.authorizer.allowed(bob, ["@leads"])).toBe(true);
    expect(fake.calls.slice(from).filter((c: RecordedCall) => c.method.startsWith("usergroups"))).toEqual([]); // cached
  });
});
