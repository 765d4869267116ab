import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createSlackApp, type SlackApp } from "../../bot/slack/app.ts";
import { FakeDispatch } from "../support/fake-dispatch.ts";
import { FakeSlack } from "../support/fake-slack.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TOKEN = "xoxb-test-token";
const APP_TOKEN = "xapp-1-A0000001-1-test";

let fake: FakeSlack;
let redis: Redis;
let slack: SlackApp;
let started: { port?: number };
let stopped = false;
const dispatch = new FakeDispatch();
const prefix = `raptor-test:${randomUUID()}:`;
const logs: string[] = [];

beforeAll(async () => {
  fake = await FakeSlack.start({ signingSecret: "unused-in-socket-mode", botToken: TOKEN, appToken: APP_TOKEN });
  fake.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com" });
  fake.addUser({ id: "U0BOB", name: "bob", email: "bob@example.com" });
  fake.channels.set("C0WEB", { id: "C0WEB", name: "web" });
  redis = new Redis(REDIS_URL);
  const log = (level: string) => (o: object, msg?: string) => logs.push(`${level} ${msg ?? ""} ${JSON.stringify(o)}`);
  slack = createSlackApp({
    appToken: APP_TOKEN,
    botToken: TOKEN,
    signingSecret: "",
    port: 0,
    slackApiUrl: fake.apiUrl,
    dispatch: dispatch.fn,
    redis,
    prefix,
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
  });
  started = await slack.start();
});

afterAll(async () => {
  if (!stopped) await slack?.stop();
  await fake?.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const since = () => fake.calls.length;
const dispatched = () => dispatch.requests.length;
const sm = () => fake.socketMode;

describe("Slack app in Socket Mode (real Bolt, fake Slack over a WebSocket, real Redis)", () => {
  it("connects: auth.test with the bot token, apps.connections.open with the app token, one WebSocket, hello", async () => {
    expect(started).toEqual({});
    expect(fake.callsOf("auth.test").map((c) => c.token)).toContain(TOKEN);
    const opens = fake.callsOf("apps.connections.open");
    expect(opens).toHaveLength(1);
    expect(opens[0]!.token).toBe(APP_TOKEN);
    expect(sm().connections).toHaveLength(1);
    expect(sm().open()).toHaveLength(1);
    expect(logs.some((l) => l.includes("Slack app connected") && l.includes('"mode":"socket"'))).toBe(true);
  });

  it("the fake Web API refuses the tokens the wrong way round, as Slack does", async () => {
    const call = async (method: string, token: string) =>
      (await (await fetch(`${fake.apiUrl}${method}`, { method: "POST", headers: { authorization: `Bearer ${token}` } })).json()) as { ok: boolean; error?: string };
    expect(await call("apps.connections.open", TOKEN)).toEqual({ ok: false, error: "not_allowed_token_type" });
    expect(await call("chat.postMessage", APP_TOKEN)).toEqual({ ok: false, error: "not_allowed_token_type" });
    // The app token as a POST parameter is refused too: the header is the only way.
    const body = new URLSearchParams({ token: APP_TOKEN });
    const asParam = (await (await fetch(`${fake.apiUrl}apps.connections.open`, { method: "POST", body })).json()) as { ok: boolean; error?: string };
    expect(asParam).toEqual({ ok: false, error: "invalid_auth" });
  });

  it("slash command: acked with its envelope_id before dispatch finishes, dispatched with actor, channel and origin, then answered", async () => {
    const from = since();
    const n = dispatched();
    const release = dispatch.hold();
    try {
      const d = sm().slashCommand({ text: "status web", user: "U0ALICE", userName: "alice", channel: "C0WEB", channelName: "web" });
      expect(d.envelope).toMatchObject({ type: "slash_commands", accepts_response_payload: true });
      await dispatch.waitFor(n + 1);
      // Dispatch is still held: the ack cannot have waited for it.
      const ack = await d.acked();
      expect(ack).toMatchObject({ envelope_id: d.envelope.envelope_id, payload: {}, connection: 0 });
      expect(dispatch.requests[n]).toEqual({
        text: "status web",
        actor: { id: "U0ALICE", name: "alice", email: "alice@example.com" },
        channel: { id: "C0WEB", name: "web" },
        origin: "slack:C0WEB",
      });
    } finally {
      release();
    }
    const answer = await fake.waitForCall("response_url", { from });
    expect(answer.args).toMatchObject({ response_type: "in_channel", text: "status web\nweb.1  app1:5001  RUNNING" });
    expect(sm().acks.filter((a) => a.envelope_id === sm().acks.at(-1)!.envelope_id)).toHaveLength(1); // acked once
  });

  it("an app_mention delivered twice (retry_attempt 1) is acked both times and dispatched once", async () => {
    const n = dispatched();
    const eventId = `Ev${randomUUID().slice(0, 8)}`;
    const event = fake.appMentionEvent({ text: "<@UBOT0001> deploy web production", user: "U0BOB", channel: "C0WEB" });
    const first = sm().eventCallback(event, { eventId });
    expect(first.envelope).toMatchObject({ type: "events_api", accepts_response_payload: false, retry_attempt: 0, retry_reason: "" });
    await first.acked();
    const second = sm().eventCallback(event, { eventId, retryAttempt: 1, retryReason: "timeout" });
    expect(second.envelope.envelope_id).not.toBe(first.envelope.envelope_id);
    await second.acked();
    await dispatch.waitFor(n + 1);
    // A different event afterwards: once it is dispatched, the redelivery has long been handled.
    sm().eventCallback(fake.appMentionEvent({ text: "<@UBOT0001> status web", user: "U0BOB", channel: "C0WEB" }));
    await dispatch.waitFor(n + 2);
    expect(dispatch.requests.slice(n).map((r) => r.text)).toEqual(["deploy web production", "status web"]);
    expect(dispatch.requests[n]).toEqual({
      text: "deploy web production",
      actor: { id: "U0BOB", name: "bob", email: "bob@example.com" },
      channel: { id: "C0WEB", name: "web" },
      origin: "slack:C0WEB",
    });
    await vi.waitUntil(() => logs.some((l) => l.includes("already handled") && l.includes(eventId) && l.includes('"retryNum":1')), { timeout: 5000 });
  });

  it("an Approve button (block_actions) is acked and dispatches `approve <id>` with the presser as actor", async () => {
    const n = dispatched();
    const d = sm().blockAction({ user: "U0BOB", actionId: "raptor_approve", value: "approve d-41", channel: "C0WEB", messageTs: "1700000800.000100", text: "Approve" });
    expect(d.envelope).toMatchObject({ type: "interactive", accepts_response_payload: true });
    expect(await d.acked()).toMatchObject({ envelope_id: d.envelope.envelope_id, payload: {} });
    await dispatch.waitFor(n + 1);
    expect(dispatch.requests.slice(n)).toEqual([
      { text: "approve d-41", actor: { id: "U0BOB", name: "bob", email: "bob@example.com" }, channel: { id: "C0WEB", name: "web" }, origin: "slack:C0WEB:1700000800.000100" },
    ]);
  });

  it("a `disconnect` (refresh_requested) makes the app reconnect with a fresh URL, and envelopes flow on the new socket", async () => {
    const opens = fake.callsOf("apps.connections.open").length;
    sm().disconnect("refresh_requested", 0);
    const old = await sm().waitForClose(0);
    expect(old.closeCode).toBe(1000); // the client closed it normally
    // The client waits clientPingTimeout (5 s) before reconnecting.
    const next = await sm().waitForConnection(1, 20_000);
    expect(fake.callsOf("apps.connections.open")).toHaveLength(opens + 1);
    expect(next.ticket).not.toBe(old.ticket);
    const n = dispatched();
    const d = sm().eventCallback(fake.appMentionEvent({ text: "<@UBOT0001> status web", user: "U0ALICE", channel: "C0WEB" }));
    expect((await d.acked()).connection).toBe(1);
    await dispatch.waitFor(n + 1);
    expect(dispatch.requests[n]!.text).toBe("status web");
    expect(sm().connections.every((c) => c.other.length === 0)).toBe(true); // nothing but acks came back
  });

  it("the client's heartbeat pings are answered: past its 4-unanswered-pings limit the socket stays up", async () => {
    const conn = sm().open().at(-1)!;
    // The client pings every clientPingTimeout/3 (~1.7 s) and drops the socket after 4 pings with no pong.
    await sm().waitForPings(conn.index, 5, 20_000);
    expect(conn.closedAt).toBeUndefined();
    expect(sm().open()).toHaveLength(1);
    expect(logs.filter((l) => l.includes("pong wasn't received"))).toEqual([]);
  });

  it("stop() closes the WebSocket with a normal close", async () => {
    const index = sm().open().at(-1)!.index;
    stopped = true;
    await slack.stop();
    const conn = await sm().waitForClose(index);
    expect(conn.closeCode).toBe(1000);
    expect(sm().open()).toEqual([]);
  });
});
