/**
 * Reliability through the Slack endpoint (issue 15): a separate `bin/raptor bot` process (the real
 * Bolt app, real dispatch) in front of the real engine on one ssh host, driven by the fake Slack,
 * which signs every request as Slack does and records every Web API call.
 *  (The burst scenarios of issue 15, 20 deployments in 1 s and 1,000 slash commands in 10 s, are in
 *  slack-load.test.ts.)
 *  - The bot SIGKILLed while a thread is being written: after a restart, no message lost, none repeated.
 * Set RAPTOR_TEST_LOG=1 to print the figures.
 */
import { and, asc, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentEvents, deployments } from "../../db/schema/index.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { startRaptor, type Daemon } from "../support/spawn-raptor.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { groupMembers } from "../support/process-group.ts";

const SECRET = "burst-signing-secret";
const TOKEN = "xoxb-burst";
const CHANNEL = "CBURST01";
const APPS = Array.from({ length: 10 }, (_, i) => `a${i}`);
const PEOPLE = 100;
const log = (line: string) => process.env.RAPTOR_TEST_LOG && console.log(line);

describe("the Slack endpoint with a killed bot", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let fake: FakeSlack;
  let bot: Daemon;
  let url: string;
  const bots: Daemon[] = [];

  /** `bin/raptor bot` on Slack, in a process group of its own so a SIGKILL takes tsx and node. */
  async function spawnBot(): Promise<void> {
    bot = startRaptor(["bot"], {
      ...h.env,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      PORT: "0",
      LOG_LEVEL: "warn",
      RAPTOR_BOT_NAME: "relslack-bot",
    }, { detached: true });
    bots.push(bot);
    const deadline = Date.now() + 30_000;
    let m: RegExpMatchArray | null = null;
    while (!(m = bot.output().match(/listening on :(\d+)/))) {
      if (Date.now() > deadline || bot.child.exitCode !== null) throw new Error(`the bot did not start:\n${bot.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = `http://127.0.0.1:${m[1]}/slack/events`;
  }
  function killBot(): void {
    try {
      process.kill(-bot.child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    fake = await FakeSlack.start({ signingSecret: SECRET, botToken: TOKEN });
    fake.channels.set(CHANNEL, { id: CHANNEL, name: "burst" });
    for (let i = 0; i < PEOPLE; i++) fake.addUser({ id: `UP${String(i).padStart(6, "0")}`, name: `p${i}`, email: `p${i}@example.com` });
    const apps = Object.fromEntries(APPS.map((a) => [a, { repo: repo.path, environments: { stage: bedEnv(1, `${a}_stage`, { uptest_timeout: "8s" }) } }]));
    h = await startHarness({ workers: 2, playbookYaml: { "pb.yaml": playbookYaml([bed.squadYaml("bed")], apps) } });
    await spawnBot();
  }, 120_000);

  afterAll(async () => {
    for (const b of bots) {
      try {
        process.kill(-b.child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }
    await fake?.close();
    await h?.close();
    await bed?.stop();
  });

  it("the bot SIGKILLed while a thread is being written: after a restart, no message lost, none repeated", { timeout: 90_000 }, async () => {
    await repo.commit({ VERSION: "v2\n" }, "v2");
    const mark = fake.calls.length;
    // Slack takes the deployment's first thread reply but the bot never hears back: it dies first.
    const hold = fake.holdNext((c) => c.index >= mark && c.method === "chat.postMessage" && c.args.channel === CHANNEL && typeof c.args.thread_ts === "string");
    expect((await fake.slashCommand(url, { text: "deploy a1 stage", user: "UP000001", channel: CHANNEL })).status).toBe(200);
    const held = await hold.arrived;
    const headTs = String(held.args.thread_ts);
    const pgid = bot.child.pid!;
    killBot();
    const gone = Date.now() + 5_000;
    while (groupMembers(pgid).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
    hold.release();
    await spawnBot();

    const text = (m: { text?: unknown; blocks?: unknown }) => String(m.text ?? "") + JSON.stringify(m.blocks ?? []);
    await fake.waitForCall((c) => c.method === "chat.postMessage" && c.args.thread_ts === headTs && /is now \*v\d+\*/.test(text(c.args)), { from: mark, timeoutMs: 60_000 });
    // The summary is said before the row's end is written: wait for the row.
    let d: typeof deployments.$inferSelect | undefined;
    for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      [d] = await h.engine.db.select().from(deployments).where(and(eq(deployments.app, "a1"), eq(deployments.kind, "deploy"))).orderBy(desc(deployments.seq)).limit(1);
      if (d?.finishedAt) break;
    }
    expect(d!.status).toBe("succeeded");
    const events = await h.engine.db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, d!.id)).orderBy(asc(deploymentEvents.id));
    // What the thread must hold: one head, one reply per log, one summary.
    const logs = events.filter((e) => e.type === "step.log").map((e) => `${String(e.data.step).replace(/_/g, " ")}: ${String(e.data.title)}`);
    const heads = fake.messages.filter((m) => m.channel === CHANNEL && !m.thread_ts && !m.ephemeralTo && m.metadata?.event_payload?.deployment_id === d!.id);
    const replies = fake.thread(CHANNEL, headTs).filter((m) => m.ts !== headTs);
    const summaries = replies.filter((m) => /is now \*v\d+\*/.test(text(m)));
    log(`killed thread: ${events.length} events, ${logs.length} logs, ${replies.length} replies, ${heads.length} head(s)`);
    expect(heads.map((m) => m.ts)).toEqual([headTs]);
    expect(summaries).toHaveLength(1);
    for (const title of logs) expect(replies.filter((m) => String(m.text).startsWith(title)), title).toHaveLength(1);
    expect(replies).toHaveLength(logs.length + 1);
    // The head was edited to the end after the restart.
    expect(text(fake.messages.find((m) => m.ts === headTs)!)).toMatch(/teardown/);
  });
});
