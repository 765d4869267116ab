/**
 * `raptor bot` acks in its main thread and answers commands in a worker thread
 * (bot/slack/work-thread.ts). What a person in Slack notices of that, with the real Bolt app, the
 * fake Slack, real Redis and a real worker thread (test/support/test-command-thread.ts speaks the
 * command thread's protocol without the engine):
 *  - while the thread answering commands is busy for seconds, other commands are still acked at once;
 *  - when it dies answering a command, its author is told, and the thread is restarted: the next
 *    command is answered again.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSlackApp, type SlackApp } from "../../bot/slack/app.ts";
import { WorkThread } from "../../bot/slack/work-thread.ts";
import { FakeSlack } from "../support/fake-slack.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SECRET = "thread-signing-secret";
const TOKEN = "xoxb-thread-token";
const CHANNEL = "C0THREAD";

let fake: FakeSlack;
let redis: Redis;
let slack: SlackApp;
let work: WorkThread;
let url: string;
const prefix = `raptor-test:${randomUUID()}:`;
const logs: string[] = [];

beforeAll(async () => {
  fake = await FakeSlack.start({ signingSecret: SECRET, botToken: TOKEN });
  fake.channels.set(CHANNEL, { id: CHANNEL, name: "thread" });
  for (const id of ["U0ALICE", "U0BOB"]) fake.addUser({ id, name: id.slice(2).toLowerCase() });
  redis = new Redis(REDIS_URL);
  const line = (level: string) => (o: object, msg?: string) => logs.push(`${level} ${msg ?? ""} ${JSON.stringify(o)}`);
  const logger = { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
  work = new WorkThread({ entry: new URL("../support/test-command-thread.ts", import.meta.url), log: logger, restartDelaysMs: [200] });
  await work.start();
  slack = createSlackApp({ botToken: TOKEN, signingSecret: SECRET, port: 0, slackApiUrl: fake.apiUrl, answerer: work, redis, prefix, logger });
  url = `http://127.0.0.1:${(await slack.start()).port}/slack/events`;
}, 60_000);

afterAll(async () => {
  await slack?.stop();
  await work?.stop();
  await fake?.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const command = (text: string, user = "U0ALICE") => fake.slashCommand(url, { text, user, channel: CHANNEL, channelName: "thread" });
const answerTo = (text: string, from: number) => fake.waitForCall((c) => c.method === "response_url" && c.args.text === `answered: ${text}`, { from, timeoutMs: 20_000 });

describe("the Slack bot's command thread", () => {
  it("while it spends 3 s on one command, another person's command is acked at once; both are answered", async () => {
    const from = fake.calls.length;
    expect((await command("spin 3000")).status).toBe(200);
    const t0 = Date.now();
    const res = await command("status web", "U0BOB");
    // In one event loop this ack would wait for the 3 s of work; Slack gives up at 3 s.
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1_500);
    await answerTo("spin 3000", from);
    await answerTo("status web", from);
  });

  it("when it dies answering a command, the author is told; it is restarted and the next command is answered", async () => {
    const from = fake.calls.length;
    const startsBefore = work.starts;
    expect((await command("crash")).status).toBe(200);
    const told = await fake.waitForCall((c) => c.method === "response_url" && /command thread stopped while answering/.test(String(c.args.text)), { from, timeoutMs: 20_000 });
    expect(told.args).toMatchObject({ response_type: "ephemeral" });
    expect(logs.some((l) => l.startsWith("error the command thread died; restarting it"))).toBe(true);
    // Until the new thread is up, a command is refused in its ack, saying why; after, answered.
    let res = await command("status web", "U0BOB");
    while (res.body.includes("restarting its command thread")) {
      expect(JSON.parse(res.body)).toMatchObject({ response_type: "ephemeral" });
      await new Promise((r) => setTimeout(r, 100));
      res = await command("status web", "U0BOB");
    }
    expect(work.starts).toBe(startsBefore + 1);
    await answerTo("status web", from);
  });
});
