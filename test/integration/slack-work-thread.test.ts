/**
 * `raptor bot` acks in its main thread and answers commands in a worker thread
 * (bot/slack/work-thread.ts). What a person in Slack notices of that, with the real Bolt app, the
 * fake Slack, real Redis and a real worker thread (test/support/test-command-thread.ts speaks the
 * command thread's protocol without the engine):
 *  - while the thread answering commands is busy for seconds, other commands are still acked at once;
 *  - when it dies answering a command, its author is told, and the thread is restarted: the next
 *    command is answered again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkThread } from "../../bot/slack/work-thread.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { collectingLogger, startSlackBed, stopSlackBed, type SlackBed } from "../support/slack-bed.ts";

const SECRET = "thread-signing-secret";
const TOKEN = "xoxb-thread-token";
const CHANNEL = "C0THREAD";

let bed: SlackBed & { prefix: string };
let fake: FakeSlack;
let work: WorkThread;
let url: string;
const logs: string[] = [];

beforeAll(async () => {
  const logger = collectingLogger(logs);
  work = new WorkThread({ entry: new URL("../support/test-command-thread.ts", import.meta.url), log: logger, restartDelaysMs: [200] });
  await work.start();
  bed = await startSlackBed({
    signingSecret: SECRET,
    botToken: TOKEN,
    channels: [{ id: CHANNEL, name: "thread" }],
    users: ["U0ALICE", "U0BOB"].map((id) => ({ id, name: id.slice(2).toLowerCase() })),
    app: { answerer: work, logger },
  });
  ({ fake, url } = bed);
}, 60_000);

afterAll(async () => {
  await stopSlackBed(bed ?? {});
  await work?.stop();
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
