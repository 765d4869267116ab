import { and, count, eq } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlackBot, type SlackBot } from "../../bot/slack/slack-bot.ts";
import { auditLog, deployments } from "../../db/schema/index.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { FakeSlack, type RecordedCall } from "../support/fake-slack.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { REDIS_URL, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

const SECRET = "e2e-signing-secret";
const TOKEN = "xoxb-e2e";
const DEV = "UDEV0001"; // in @deployers
const LEAD = "ULEAD001"; // in @leads and @deployers
const LEAD2 = "ULEAD002"; // in @leads
const OUT = "UOUT0001"; // in no group
const STAGE = "CSTAGE01"; // bound to hello stage by id
const PROD = "CPROD001";

/**
 * The real Bolt app, real dispatch and the real engine on one ssh host, driven through a fake
 * Slack that signs requests as Slack does and records every Web API call.
 */
describe("Slack end to end", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let fake: FakeSlack;
  let bot: SlackBot;
  let url: string;
  let blocking: Redis;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    fake = await FakeSlack.start({ signingSecret: SECRET, botToken: TOKEN });
    fake.addUser({ id: DEV, name: "dev", email: "dev@example.com" });
    fake.addUser({ id: LEAD, name: "lead", email: "lead@example.com" });
    fake.addUser({ id: LEAD2, name: "lead2", email: "lead2@example.com" });
    fake.addUser({ id: OUT, name: "outsider", email: "out@example.com" });
    fake.usergroups.push({ id: "S0DEPLOY", handle: "deployers", users: [DEV, LEAD] }, { id: "S0LEADS1", handle: "leads", users: [LEAD, LEAD2] });
    fake.channels.set(STAGE, { id: STAGE, name: "hello-stage" });
    fake.channels.set(PROD, { id: PROD, name: "hello-prod" });
    const env = (name: string, more: Record<string, unknown>) => bedEnv(1, `hello_${name}`, { uptest_timeout: "8s", access: { deploy: ["@deployers"] }, ...more });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: {
            repo: repo.path,
            environments: {
              stage: env("stage", { channels: [STAGE] }),
              prod: env("prod", { approval: { required: true, timeout: "30m", approvers: ["@leads"] }, channels: ["#hello-prod"] }),
            },
          },
        }),
      },
    });
    blocking = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    bot = await startSlackBot(h.engine, blocking, { botToken: TOKEN, signingSecret: SECRET, port: 0, slackApiUrl: fake.apiUrl, minUpdateIntervalMs: 100, consumer: "e2e", log: { debug() {}, info() {}, warn() {}, error() {} } });
    url = `http://127.0.0.1:${bot.port}/slack/events`;
  }, 120_000);
  afterAll(async () => {
    await bot?.stop();
    blocking?.disconnect();
    await fake?.close();
    await h?.close();
    await bed?.stop();
  });

  const deploymentCount = async () => (await h.engine.db.select({ n: count() }).from(deployments))[0]!.n;
  const blocksText = (m: { blocks?: unknown; text?: unknown }) => JSON.stringify(m.blocks ?? []) + String(m.text ?? "");
  /** The head message a deployment posted in `channel` after call index `from`. */
  const headPosted = (channel: string, from: number) => fake.waitForCall((c) => c.method === "chat.postMessage" && c.args.channel === channel && !c.args.thread_ts, { from, timeoutMs: 15_000 });
  /** The final summary in a thread: a reply whose text says the deployment ended. */
  async function summaryIn(channel: string, ts: string, from: number): Promise<RecordedCall> {
    return fake.waitForCall((c) => c.method === "chat.postMessage" && c.args.channel === channel && c.args.thread_ts === ts && /is now \*v\d+\*|failed|rejected/i.test(blocksText(c.args)), { from, timeoutMs: 60_000 });
  }
  const head = (channel: string, ts: string) => fake.messages.find((m) => m.channel === channel && m.ts === ts)!;
  /** What only `user` saw: an ephemeral message, or (for slash commands) an ephemeral response_url reply. */
  const ephemeralTo = (user: string, from: number) =>
    fake.waitForCall((c) => (c.method === "chat.postEphemeral" && c.args.user === user) || (c.method === "response_url" && c.args.response_type === "ephemeral" && !/is queued/.test(String(c.args.text))), { from, timeoutMs: 10_000 });

  let firstSummary: RecordedCall;
  let stageHeadTs: string;

  it("a deploy is seen from the slash command to the final summary in one thread", async () => {
    const mark = fake.calls.length;
    const res = await fake.slashCommand(url, { text: "deploy hello stage", user: DEV, channel: STAGE });
    expect(res.status).toBe(200);
    const posted = await headPosted(STAGE, mark);
    stageHeadTs = String((posted as RecordedCall & { result?: { ts: string } }).args.ts ?? fake.messages.find((m) => m.channel === STAGE && !m.thread_ts)!.ts);
    stageHeadTs = fake.messages.filter((m) => m.channel === STAGE && !m.thread_ts && !m.ephemeralTo).at(-1)!.ts;
    firstSummary = await summaryIn(STAGE, stageHeadTs, mark);
    expect(blocksText(firstSummary.args)).toContain("is now *v1*");
    // The head was edited in place as the steps went by, and ends with every step ticked.
    expect(fake.callsOf("chat.update").filter((c) => c.args.ts === stageHeadTs).length).toBeGreaterThan(0);
    const final = blocksText(head(STAGE, stageHeadTs));
    expect(final).toMatch(/<@UDEV0001>/);
    for (const step of ["resolve", "build", "release", "start", "uptest", "route", "teardown"]) expect(final).toContain(step);
    // Everything went into that one thread.
    expect(fake.thread(STAGE, stageHeadTs).every((m) => m.ts === stageHeadTs || m.thread_ts === stageHeadTs)).toBe(true);
  });

  // Issue 11 item 11: `show <id>` replays a deployment's thread in Slack too.
  it("show <id> replays that deploy's thread: request, steps and outcome, in one message Slack takes", async () => {
    const [first] = await h.engine.db.select().from(deployments).where(eq(deployments.env, "stage")).orderBy(deployments.createdAt).limit(1);
    const mark = fake.calls.length;
    await fake.slashCommand(url, { text: `show ${first!.id}`, user: DEV, channel: STAGE });
    const r = await fake.waitForCall((c) => c.method === "response_url" && String(c.args.text).startsWith(first!.id), { from: mark });
    expect(r.args.response_type).toBe("in_channel");
    const shown = blocksText(r.args);
    expect(shown).toContain(`${first!.id}: Deploy hello stage, succeeded`);
    for (const step of ["resolve", "build", "release", "start", "uptest", "route", "teardown"]) expect(shown).toContain(`✓ ${step}`);
    expect(shown).toMatch(/✓ Deploy hello stage is now v1 \([0-9a-f]{7}\)/);
  });

  it("a second release's summary carries a Rollback button, and pressing it rolls back in the same thread", async () => {
    await repo.commit({ VERSION: "v2\n" });
    let mark = fake.calls.length;
    await fake.slashCommand(url, { text: "deploy hello stage", user: DEV, channel: STAGE });
    await headPosted(STAGE, mark);
    const ts = fake.messages.filter((m) => m.channel === STAGE && !m.thread_ts && !m.ephemeralTo).at(-1)!.ts;
    const summary = await summaryIn(STAGE, ts, mark);
    const text = blocksText(summary.args);
    expect(text).toContain("is now *v2*");
    expect(text).toContain("raptor_rollback");
    expect(text).toContain("rollback hello stage v1");
    // Issue 13 item 3: the summary names the commit range, and the confirmation what it reverts to.
    expect(text).toMatch(/\*Commits\* `[0-9a-f]{7}\.\.[0-9a-f]{7}` \(1 new commit\)/);
    expect(text).toMatch(/Roll hello stage back to v1 \(commit [0-9a-f]{7}, cut \d+[sm] ago\); config: the same\? This starts a new deployment\./);

    mark = fake.calls.length;
    const press = await fake.blockAction(url, { user: DEV, actionId: "raptor_rollback", value: "rollback hello stage v1", channel: STAGE, messageTs: summary.args.ts as string ?? ts, threadTs: ts });
    expect(press.status).toBe(200);
    const rolled = await summaryIn(STAGE, ts, mark);
    expect(blocksText(rolled.args)).toContain("is now *v3*");
    const last = (await h.engine.db.select().from(deployments).where(eq(deployments.kind, "rollback")))[0]!;
    expect(last).toMatchObject({ status: "succeeded", requestedBy: DEV });
  }, 60_000); // a deploy and a rollback: ~20 s alone, past the 30 s default beside other heavy files

  it("approval: the requester cannot approve, an outsider cannot, a listed approver can", async () => {
    let mark = fake.calls.length;
    await fake.slashCommand(url, { text: "deploy hello prod", user: LEAD, channel: PROD, channelName: "hello-prod" });
    await headPosted(PROD, mark);
    // The command's own answer (through its response_url) may land after the head: wait for it, so
    // it is not taken below for the answer to LEAD's Approve press (failed so in CI).
    await fake.waitForCall((c) => c.method === "response_url" && /is waiting for approval/.test(String(c.args.text)), { from: mark, timeoutMs: 10_000 });
    const [pending] = await h.engine.db.select().from(deployments).where(and(eq(deployments.env, "prod"), eq(deployments.status, "awaiting_approval")));
    expect(pending).toBeDefined();
    const id = pending!.id;
    const headMsg = () => fake.messages.find((m) => m.channel === PROD && !m.thread_ts && !m.ephemeralTo)!;
    // The head shows Approve / Reject once the approval is recorded (an edit of the queued head).
    await fake.waitForCall((c) => c.args.channel === PROD && blocksText(c.args).includes("raptor_approve"), { from: mark });
    expect(blocksText(headMsg())).toContain(`approve ${id}`);

    mark = fake.calls.length;
    await fake.blockAction(url, { user: LEAD, actionId: "raptor_approve", value: `approve ${id}`, channel: PROD, messageTs: headMsg().ts });
    expect(JSON.stringify((await ephemeralTo(LEAD, mark)).args)).toContain(`you asked for ${id}, so someone else must approve it.`);
    mark = fake.calls.length;
    await fake.blockAction(url, { user: OUT, actionId: "raptor_approve", value: `approve ${id}`, channel: PROD, messageTs: headMsg().ts });
    expect(JSON.stringify((await ephemeralTo(OUT, mark)).args)).toContain("you may not approve deployments of hello prod. Who may: @leads.");
    expect((await h.engine.db.select().from(deployments).where(eq(deployments.id, id)))[0]!.status).toBe("awaiting_approval");

    mark = fake.calls.length;
    await fake.blockAction(url, { user: LEAD2, actionId: "raptor_approve", value: `approve ${id}`, channel: PROD, messageTs: headMsg().ts });
    const summary = await summaryIn(PROD, headMsg().ts, mark);
    expect(blocksText(summary.args)).toContain("is now *v1*");
    expect(blocksText(headMsg())).toContain("ULEAD002");
    const decisions = await h.engine.db.select().from(auditLog).where(eq(auditLog.deploymentId, id));
    expect(decisions.map((d) => `${d.actor}:${d.action}:${d.outcome}`)).toEqual(expect.arrayContaining([`${LEAD}:deploy:requested`, `${LEAD2}:approve:recorded`]));
  });

  it("a user without access is refused, told who may, and nothing is enqueued", async () => {
    const before = await deploymentCount();
    const mark = fake.calls.length;
    await fake.slashCommand(url, { text: "deploy hello stage", user: OUT, channel: STAGE });
    expect(JSON.stringify((await ephemeralTo(OUT, mark)).args)).toContain("you may not deploy hello stage. Who may: @deployers.");
    expect(await deploymentCount()).toBe(before);
    const [refusal] = await h.engine.db.select().from(auditLog).where(and(eq(auditLog.actor, OUT), eq(auditLog.outcome, "refused"), eq(auditLog.action, "deploy")));
    expect(refusal).toMatchObject({ action: "deploy", app: "hello", env: "stage" });
  });

  it("a forged signature and a replayed timestamp are refused with 401 and nothing is enqueued", async () => {
    const before = await deploymentCount();
    const forged = await fake.slashCommand(url, { text: "deploy hello stage", user: DEV, channel: STAGE }, { secret: "not-the-secret" });
    expect(forged.status).toBe(401);
    const replayed = await fake.slashCommand(url, { text: "deploy hello stage", user: DEV, channel: STAGE }, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(replayed.status).toBe(401);
    expect(await deploymentCount()).toBe(before);
  });

  it("the same event delivered three times requests one deployment; a bound channel fills in app and env", async () => {
    const before = await deploymentCount();
    const event = fake.appMentionEvent({ text: `<@${fake.botUserId}> deploy`, user: DEV, channel: STAGE });
    const mark = fake.calls.length;
    const sends = [
      await fake.eventCallback(url, event, { eventId: "EvSAME0001" }),
      await fake.eventCallback(url, event, { eventId: "EvSAME0001", retryNum: 1 }),
      await fake.eventCallback(url, event, { eventId: "EvSAME0001", retryNum: 2 }),
    ];
    expect(sends.map((s) => s.status)).toEqual([200, 200, 200]);
    await headPosted(STAGE, mark);
    const ts = fake.messages.filter((m) => m.channel === STAGE && !m.thread_ts && !m.ephemeralTo).at(-1)!.ts;
    await summaryIn(STAGE, ts, mark);
    expect(await deploymentCount()).toBe(before + 1);
    const [latest] = (await h.engine.db.select().from(deployments).where(eq(deployments.env, "stage"))).sort((a, b) => b.seq - a.seq);
    expect(latest).toMatchObject({ app: "hello", env: "stage", kind: "deploy", requestedBy: DEV });
  });

  it("a 10 kB message gets a clear 'too long' reply and requests nothing", async () => {
    const before = await deploymentCount();
    const mark = fake.calls.length;
    const res = await fake.eventCallback(url, fake.appMentionEvent({ text: `<@${fake.botUserId}> deploy hello stage ${"x".repeat(10_240)}`, user: DEV, channel: STAGE }));
    expect(res.status).toBe(200);
    const reply = await fake.waitForCall((c) => (c.method === "chat.postEphemeral" || c.method === "chat.postMessage") && /too long/.test(JSON.stringify(c.args)), { from: mark });
    expect(JSON.stringify(reply.args)).toMatch(/too long/);
    expect(await deploymentCount()).toBe(before);
  });

  it("logs and config need the environment's deploy list (status stays open); logs mask config set values", async () => {
    let mark = fake.calls.length;
    await fake.slashCommand(url, { text: "logs hello stage", user: OUT, channel: STAGE });
    expect(JSON.stringify((await ephemeralTo(OUT, mark)).args)).toContain("you may not read the logs of hello stage. Who may: @deployers.");
    mark = fake.calls.length;
    await fake.slashCommand(url, { text: "config hello stage", user: OUT, channel: STAGE });
    expect(JSON.stringify((await ephemeralTo(OUT, mark)).args)).toContain("you may not see the config of hello stage. Who may: @deployers.");
    mark = fake.calls.length;
    await fake.slashCommand(url, { text: "status hello stage", user: OUT, channel: STAGE });
    await fake.waitForCall((c) => c.method === "response_url" && JSON.stringify(c.args).includes("status of hello stage"), { from: mark, timeoutMs: 10_000 });

    // A value marked secret (`config secret`) is masked like a playbook one: this one happens to be
    // what the app logs at start ("hello v1 listening on ..."), so it shows whether logs are masked.
    // Not the bare word `listening`: a plain word is not a secret (red team 2 N4).
    mark = fake.calls.length;
    await fake.slashCommand(url, { text: 'config secret hello stage HELLO_MARK="listening on"', user: DEV, channel: STAGE });
    await headPosted(STAGE, mark);
    const ts = fake.messages.filter((m) => m.channel === STAGE && !m.thread_ts && !m.ephemeralTo).at(-1)!.ts;
    expect(blocksText((await summaryIn(STAGE, ts, mark)).args)).toMatch(/is now \*v\d+\*/);
    mark = fake.calls.length;
    await fake.slashCommand(url, { text: "logs hello stage", user: DEV, channel: STAGE });
    const logs = JSON.stringify((await fake.waitForCall((c) => c.method === "response_url" && JSON.stringify(c.args).includes("logs of hello stage"), { from: mark, timeoutMs: 10_000 })).args);
    expect(logs).toMatch(/hello v\d \[REDACTED\] \S/);
    expect(logs).not.toContain("listening");
  });

  it("plan answers in Slack with repo text escaped, and requests nothing", async () => {
    await repo.commit({ VERSION: "v9\n" }, "<!channel> ship it & more");
    const before = await deploymentCount();
    const mark = fake.calls.length;
    await fake.slashCommand(url, { text: "plan deploy hello stage", user: DEV, channel: STAGE });
    const answer = JSON.stringify((await fake.waitForCall((c) => c.method === "response_url" && JSON.stringify(c.args).includes("plan: deploy hello stage"), { from: mark, timeoutMs: 20_000 })).args);
    expect(answer).toContain("&lt;!channel&gt; ship it &amp; more");
    expect(answer).not.toContain("<!channel>");
    expect(answer).toMatch(/procs: 1 start, 1 stop/);
    expect(await deploymentCount()).toBe(before);
  });
});
