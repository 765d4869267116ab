import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSlackApp, type SlackApp } from "../../bot/slack/app.ts";
import { FakeDispatch } from "../support/fake-dispatch.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { slackSignature } from "../support/fake-slack/sender.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SECRET = "replay-signing-secret";
const TOKEN = "xoxb-replay-token";

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

/** One signed slash command, captured whole so it can be sent again byte for byte. */
function signedCommand(text: string, timestamp = Math.floor(Date.now() / 1000)) {
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
    "x-slack-signature": slackSignature(SECRET, timestamp, body),
  };
  return () => fetch(url, { method: "POST", headers, body }).then(async (r) => ({ status: r.status, body: await r.text() }));
}

describe("signed Slack requests cannot be replayed", () => {
  it("the same signed request sent again inside five minutes is refused and dispatched once", async () => {
    const send = signedCommand("deploy web production");
    const n = dispatch.requests.length;
    expect((await send()).status).toBe(200);
    await dispatch.waitFor(n + 1);
    const again = await send();
    expect(again.status).toBe(401);
    expect(again.body).toContain("replayed");
    await new Promise((r) => setTimeout(r, 300));
    expect(dispatch.requests.length).toBe(n + 1);
    expect(warnings.some((w) => w.includes("replayed signature"))).toBe(true);
  });

  it("the same signed request sent three times at once is let through once", async () => {
    const send = signedCommand("deploy web production");
    const n = dispatch.requests.length;
    const answers = await Promise.all([send(), send(), send()]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401]);
    await dispatch.waitFor(n + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(dispatch.requests.length).toBe(n + 1);
  });

  it("a request dated ten minutes in the future is refused, even correctly signed", async () => {
    const n = dispatch.requests.length;
    const res = await signedCommand("deploy web production", Math.floor(Date.now() / 1000) + 600)();
    expect(res.status).toBe(401);
    expect(res.body).toContain("in the future");
    await new Promise((r) => setTimeout(r, 300));
    expect(dispatch.requests.length).toBe(n);
  });

  it("a request within the allowed skew (30 s ahead) still goes through; one older than five minutes is refused by Bolt", async () => {
    const n = dispatch.requests.length;
    expect((await signedCommand("status web", Math.floor(Date.now() / 1000) + 30)()).status).toBe(200);
    await dispatch.waitFor(n + 1);
    expect((await signedCommand("status web", Math.floor(Date.now() / 1000) - 600)()).status).toBe(401);
  });
});
