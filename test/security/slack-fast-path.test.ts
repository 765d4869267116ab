import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSlackApp, type SlackApp } from "../../bot/slack/app.ts";
import { FakeDispatch } from "../support/fake-dispatch.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { slackSignature } from "../support/fake-slack/sender.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SECRET = "fast-path-signing-secret";
const TOKEN = "xoxb-fast-path-token";

let fake: FakeSlack;
let redis: Redis;
let slack: SlackApp;
let url: string;
const dispatch = new FakeDispatch();
const prefix = `raptor-test:${randomUUID()}:`;
const warnings: string[] = [];

beforeAll(async () => {
  fake = await FakeSlack.start({ signingSecret: SECRET, botToken: TOKEN });
  fake.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com" });
  fake.channels.set("C0WEB", { id: "C0WEB", name: "web" });
  redis = new Redis(REDIS_URL);
  const log = (level: string) => (o: object, msg?: string) => void (level === "warn" && warnings.push(`${msg} ${JSON.stringify(o)}`));
  slack = createSlackApp({
    botToken: TOKEN,
    signingSecret: SECRET,
    port: 0,
    slackApiUrl: fake.apiUrl,
    dispatch: dispatch.fn,
    redis,
    prefix,
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
  });
  const { port } = await slack.start();
  url = `http://127.0.0.1:${port}/slack/events`;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

/** One slash command signed with `secret`; `tamper` changes its body after signing. */
function signedCommand(text: string, { secret = SECRET, tamper = (b: string) => b, headers: extra = {} as Record<string, string | undefined> } = {}) {
  const timestamp = Math.floor(Date.now() / 1000);
  const body = new URLSearchParams({
    token: "legacy",
    team_id: "T0000001",
    channel_id: "C0WEB",
    channel_name: "web",
    user_id: "U0ALICE",
    user_name: "alice",
    command: "/raptor",
    text,
    response_url: `${fake.apiUrl.replace(/\/api\/?$/, "")}/response/${randomUUID()}`,
    trigger_id: randomUUID(),
    api_app_id: "A0000001",
  }).toString();
  const headers = {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": slackSignature(secret, timestamp, body),
    ...extra,
  };
  for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k as keyof typeof headers];
  return fetch(url, { method: "POST", headers: headers as Record<string, string>, body: tamper(body) }).then(async (r) => ({ status: r.status, body: await r.text() }));
}

/** Nothing more was dispatched a moment after (a refused command must never reach dispatch). */
async function noneDispatchedSince(n: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  expect(dispatch.requests.length).toBe(n);
}

// `/raptor` commands are acked by bot/slack/command-fast-path.ts, not Bolt's App: each of Bolt's
// refusals must still happen there, with Bolt's status codes.
describe("slash commands keep Bolt's request checks", () => {
  it.each([
    ["signed with another secret", { secret: "not-the-secret" }],
    ["body changed after signing", { tamper: (b: string) => b.replace("status", "deploy") }],
    ["no signature header", { headers: { "x-slack-signature": undefined } }],
    ["no timestamp header", { headers: { "x-slack-request-timestamp": undefined } }],
    ["an unknown signature version", { headers: { "x-slack-signature": "v1=00" } }],
  ])("%s: 401, not dispatched", async (_name, how) => {
    const n = dispatch.requests.length;
    const res = await signedCommand("status web production", how);
    expect(res.status).toBe(401);
    await noneDispatchedSince(n);
  });

  it("a body over Bolt's 4 MB limit: 413, not dispatched", async () => {
    const n = dispatch.requests.length;
    const res = await signedCommand(`status ${"x".repeat(4 * 1024 * 1024)}`);
    expect(res.status).toBe(413);
    await noneDispatchedSince(n);
  });

  it("a correctly signed command is acked with an empty 200 and dispatched", async () => {
    const n = dispatch.requests.length;
    const res = await signedCommand("status web production");
    expect(res).toEqual({ status: 200, body: "" });
    await dispatch.waitFor(n + 1);
  });

  it("Slack's ssl_check (unsigned, form-encoded) still gets Bolt's 200", async () => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "ssl_check=1&token=legacy" });
    expect(res.status).toBe(200);
  });
});
