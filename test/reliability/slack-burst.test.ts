/**
 * Reliability through the Slack endpoint (issue 15): a separate `bin/raptor bot` process (the real
 * Bolt app, real dispatch) in front of the real engine on one ssh host, driven by the fake Slack,
 * which signs every request as Slack does and records every Web API call.
 *  - 20 deployments of 10 apps requested within one second: every one ends, each app's in request
 *    order, never two of one app+env at once.
 *  - 1,000 slash commands in 10 s from 100 people: every one acked (HTTP 200) within Slack's 3 s,
 *    the bot's memory bounded (RSS of the bot's process group sampled during the burst).
 *  - The bot SIGKILLed while a thread is being written: after a restart, no message lost, none repeated.
 * Set RAPTOR_TEST_LOG=1 to print the figures.
 */
import { readdirSync, readFileSync } from "node:fs";
import { and, asc, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentEvents, deployments } from "../../db/schema/index.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { startRaptor, type Daemon } from "../support/spawn-raptor.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

const SECRET = "burst-signing-secret";
const TOKEN = "xoxb-burst";
const CHANNEL = "CBURST01";
const APPS = Array.from({ length: 10 }, (_, i) => `a${i}`);
const PEOPLE = 100;
const log = (line: string) => process.env.RAPTOR_TEST_LOG && console.log(line);

/** Live (not zombie) members of a process group, read from /proc. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat = "";
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") out.push(Number(entry));
  }
  return out;
}

/** Resident memory of a process group (tsx and the node it runs), MB. */
function groupRssMb(pgid: number): number {
  let kb = 0;
  for (const pid of groupMembers(pgid)) {
    try {
      kb += Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kb / 1024;
}

describe("the Slack endpoint under bursts and a killed bot", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let fake: FakeSlack;
  let bot: Daemon;
  let url: string;
  let botLog = "";
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

  it("20 deployments of 10 apps requested within one second: all end, each app's in request order, one at a time", { timeout: 120_000 }, async () => {
    // Per app: a deploy (builds), then a config change (a real deployment that needs the first's release).
    const requests = APPS.flatMap((a, i) => [
      { app: a, text: `deploy ${a} stage`, user: `UP${String(i).padStart(6, "0")}` },
      { app: a, text: `config set ${a} stage REQ=${a}`, user: `UP${String(i + 10).padStart(6, "0")}` },
    ]);
    // Interleaved as people would send them: every app's deploy, then every app's config change.
    const ordered = [...requests.filter((_, i) => i % 2 === 0), ...requests.filter((_, i) => i % 2 === 1)];
    // Sent 45 ms apart without waiting for the acks, as Slack delivers them: an app's two requests
    // are ~450 ms apart, so "request order" is unambiguous.
    const t0 = Date.now();
    const acks: Promise<{ status: number }>[] = [];
    for (const [i, r] of ordered.entries()) {
      await new Promise((res) => setTimeout(res, Math.max(0, t0 + i * 45 - Date.now())));
      acks.push(fake.slashCommand(url, { text: r.text, user: r.user, channel: CHANNEL, channelName: "burst" }));
    }
    const sentMs = Date.now() - t0;
    expect(sentMs).toBeLessThan(1_000);
    expect((await Promise.all(acks)).map((a) => a.status)).toEqual(Array(20).fill(200));

    const deadline = Date.now() + 110_000;
    let rows: (typeof deployments.$inferSelect)[] = [];
    for (;;) {
      rows = await h.engine.db.select().from(deployments).orderBy(asc(deployments.seq));
      if (rows.length === 20 && rows.every((d) => d.finishedAt !== null)) break;
      if (Date.now() > deadline) throw new Error(`not all ended: ${rows.map((d) => `${d.app}:${d.kind}:${d.status}`).join(", ")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows.map((d) => d.status)).toEqual(Array(20).fill("succeeded"));
    for (const app of APPS) {
      const mine = rows.filter((d) => d.app === app);
      // Request order: the deploy, then the config change; they started and finished in that order, without overlap.
      const byStart = [...mine].sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());
      const byFinish = [...mine].sort((a, b) => a.finishedAt!.getTime() - b.finishedAt!.getTime());
      expect(mine.map((d) => d.kind), app).toEqual(["deploy", "config"]);
      expect(byStart.map((d) => d.kind), app).toEqual(["deploy", "config"]);
      expect(byFinish.map((d) => d.kind), app).toEqual(["deploy", "config"]);
      expect(byStart[1]!.startedAt!.getTime(), `${app}: the second started before the first finished`).toBeGreaterThanOrEqual(byStart[0]!.finishedAt!.getTime());
    }
    const last = Math.max(...rows.map((d) => d.finishedAt!.getTime()));
    log(`burst of 20: requests sent in ${sentMs} ms, all 20 ended ${last - t0} ms after the first request`);
  });

  it("1,000 slash commands in 10 s from 100 people: every one acked within 3 s, the bot's memory bounded", { timeout: 60_000 }, async () => {
    const pgid = bot.child.pid!;
    const rssStart = groupRssMb(pgid);
    let rssPeak = rssStart;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, groupRssMb(pgid))), 100);
    const acks: number[] = [];
    const statuses: number[] = [];
    let busy = 0;
    const t0 = Date.now();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 1_000; i++) {
      // 100 per second, evenly spaced, not waiting for each other (Slack does not wait either).
      const at = t0 + i * 10;
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      const user = `UP${String(i % PEOPLE).padStart(6, "0")}`;
      sends.push(
        (async () => {
          const start = Date.now();
          const res = await fake.slashCommand(url, { text: `status ${APPS[i % APPS.length]} stage`, user, channel: CHANNEL, channelName: "burst" });
          acks.push(Date.now() - start);
          statuses.push(res.status);
          if (res.body.includes("Raptor is busy")) busy++;
        })(),
      );
    }
    await Promise.all(sends);
    const burstMs = Date.now() - t0;
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, groupRssMb(pgid));
    acks.sort((a, b) => a - b);
    const p99 = acks[Math.floor(acks.length * 0.99) - 1]!;
    const max = acks.at(-1)!;
    log(`1,000 status in ${burstMs} ms: ack p50 ${acks[499]} ms, p99 ${p99} ms, max ${max} ms; busy answers ${busy}; bot RSS ${rssStart.toFixed(0)} -> peak ${rssPeak.toFixed(0)} MB`);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(max).toBeLessThan(3_000);
    expect(burstMs).toBeLessThan(13_000);
    // Bounded: the bot (tsx + node) stays within a few hundred MB, not the GBs of an unbounded backlog.
    expect(rssPeak).toBeLessThan(rssStart + 250);
    // The bot is still answering afterwards.
    const mark = fake.calls.length;
    await fake.slashCommand(url, { text: "status a0 stage", user: "UP000099", channel: CHANNEL });
    await fake.waitForCall((c) => c.method === "response_url" && JSON.stringify(c.args).includes("status of a0 stage"), { from: mark, timeoutMs: 20_000 });
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
