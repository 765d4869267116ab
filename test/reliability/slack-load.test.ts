/**
 * Reliability: the Slack endpoint under load (issue 15). A separate `bin/raptor bot` process (the
 * real Bolt app, replay guard, admission, dispatch) and two `bin/raptor worker` processes, on real
 * Postgres and Redis and one ssh+supervisord host of the shared test bed; the fake Slack signs
 * every request as Slack does, answers the Web API and records every call.
 *  - 20 deployments of 10 apps requested within one second: every one ends, each app's in request
 *    order, and every thread ends with what happened.
 *  - 1,000 slash commands in 10 s from 100 people: every one acked (HTTP 200) within Slack's 3 s,
 *    busy answers only where admission says so, every admitted one answered, the bot's RSS bounded.
 * The sender signs every request before the clock starts and sends over a keep-alive agent, so the
 * burst's timing is the bot's, not the test's. Set RAPTOR_TEST_LOG=1 to print the figures.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { asc, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployments, releases } from "../../db/schema/index.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { FakeSlack, type FakeMessage } from "../support/fake-slack.ts";
import { sendPacedApart } from "../support/paced-sender.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { startRaptor, type Daemon } from "../support/spawn-raptor.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

const execFileP = promisify(execFile);
const SECRET = "load-signing-secret";
const TOKEN = "xoxb-load";
const CHANNEL = "CLOAD001";
const APPS = Array.from({ length: 10 }, (_, i) => `l${i}`);
const PEOPLE = 100;
/** Slack gives up on an ack after 3 s (and shows the person an error). */
const SLACK_ACK_MS = 3_000;
const RSS_LIMIT_MB = 300;
const log = (line: string) => process.env.RAPTOR_TEST_LOG && console.log(line);
const person = (i: number) => `UL${String(i).padStart(6, "0")}`;

/** One line of /proc/<pid>/status in MB (VmRSS: resident now; VmHWM: the peak so far). */
function memMb(pid: number, key: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0) / 1024;
}

/** CPU time (user + system) of a process so far, ms (proc(5): fields 14 and 15 of stat, in USER_HZ = 100 ticks/s). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * Connections waiting in the accept queue of the socket listening on `port`: `ss -ltn` (netlink,
 * filtered in the kernel) prints a LISTEN socket's accept queue as Recv-Q and its backlog as
 * Send-Q; past the backlog the kernel drops SYNs. (/proc/net/tcp lists every socket of the
 * machine: 27,000 lines here, 100 ms of CPU per read, which starved the fake Slack.)
 */
async function acceptQueue(port: number): Promise<{ queued: number; backlog: number }> {
  const { stdout } = await execFileP("ss", ["-ltnH", `sport = :${port}`]);
  const [, recvQ, sendQ] = stdout.trim().split(/\s+/);
  return { queued: Number(recvQ ?? 0), backlog: Number(sendQ ?? 0) };
}

/** The bot's own figures from its /metrics: acks it measured (by bucket) and its event loop's worst delay since the last scrape. */
async function botFigures(base: string): Promise<{ acks: number; ackLe: (s: number) => number; loopLagMaxS: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const num = (re: RegExp) => Number(text.match(re)?.[1] ?? NaN);
  return {
    acks: num(/^raptor_slack_ack_duration_seconds_count (\S+)/m),
    ackLe: (s) => num(new RegExp(`^raptor_slack_ack_duration_seconds_bucket\\{le="${s}"\\} (\\S+)`, "m")),
    loopLagMaxS: num(/^nodejs_eventloop_lag_max_seconds (\S+)/m),
  };
}

const textOf = (m: { text?: unknown; blocks?: unknown }) => String(m.text ?? "") + JSON.stringify(m.blocks ?? []);

describe("the Slack endpoint under load", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let fake: FakeSlack;
  let bot: Daemon;
  const workers: Daemon[] = [];
  let url: string;
  let botExit = "";

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    fake = await FakeSlack.start({ signingSecret: SECRET, botToken: TOKEN });
    fake.channels.set(CHANNEL, { id: CHANNEL, name: "load" });
    for (let i = 0; i < PEOPLE; i++) fake.addUser({ id: person(i), name: `p${i}`, email: `p${i}@example.com` });
    const apps = Object.fromEntries(APPS.map((a) => [a, { repo: repo.path, environments: { stage: bedEnv(1, `${a}_stage`, { uptest_timeout: "20s" }) } }]));
    // No worker in this process: the test process only sends and checks, so its timing is the bot's.
    h = await startHarness({ workers: 0, playbookYaml: { "pb.yaml": playbookYaml([bed.squadYaml("bed")], apps) } });
    const env = { ...h.env, LOG_LEVEL: "warn", RAPTOR_START_TIMEOUT_MS: "20000" };
    for (let i = 0; i < 2; i++) workers.push(startRaptor(["worker"], env, { detached: true }));
    bot = startRaptor(["bot"], { ...env, SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl, PORT: "0", RAPTOR_BOT_NAME: "load-bot" }, { detached: true });
    bot.child.on("exit", (code, signal) => (botExit = `the bot exited (code ${code}, signal ${signal})`));
    const deadline = Date.now() + 60_000;
    let m: RegExpMatchArray | null = null;
    while (!(m = bot.output().match(/listening on :(\d+)/))) {
      if (Date.now() > deadline || bot.child.exitCode !== null) throw new Error(`the bot did not start:\n${bot.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = `http://127.0.0.1:${m[1]}/slack/events`;
  }, 120_000);

  afterAll(async () => {
    for (const d of [bot, ...workers]) {
      try {
        if (d) process.kill(-d.child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }
    await fake?.close();
    await h?.close();
    await bed?.stop();
  });

  /** The bot's and the workers' output, for a failure message. */
  const outputs = () => `${botExit}\n--- bot:\n${bot.output().slice(-3000)}\n--- workers:\n${workers.map((w) => w.output().slice(-1500)).join("\n")}`;

  it("20 deployments of 10 apps requested within one second: all 20 acked and ended, each app's in request order, every thread ends with its outcome", { timeout: 240_000 }, async () => {
    // Per app a deploy (builds v1), then a config change (v2 on top of v1): run the other way round,
    // the config change would find no release and the deploy would replace it.
    const ordered = [
      ...APPS.map((a, i) => ({ app: a, kind: "deploy", text: `deploy ${a} stage`, user: person(i) })),
      ...APPS.map((a, i) => ({ app: a, kind: "config", text: `config set ${a} stage REQ=second-${a}`, user: person(i + 10) })),
    ];
    const signed = ordered.map((r) => fake.signSlashCommand(url, { text: r.text, user: r.user, channel: CHANNEL, channelName: "load" }));
    // 45 ms apart: all 20 within 1 s, and an app's two requests 450 ms apart, so their order is plain.
    const { startedAt, sentAt, results } = await sendPacedApart(signed, 45);
    log(`burst of 20: sent in ${sentAt.at(-1)!.toFixed(0)} ms, acks ${results.map((r) => r.ms.toFixed(0)).join(" ")} ms`);
    expect(results.map((r) => r.status), outputs()).toEqual(Array(20).fill(200));
    expect(sentAt.at(-1)!).toBeLessThan(1_000);

    const deadline = Date.now() + 200_000;
    let rows: (typeof deployments.$inferSelect)[] = [];
    for (;;) {
      rows = await h.engine.db.select().from(deployments).orderBy(asc(deployments.seq));
      if (rows.length === 20 && rows.every((d) => d.finishedAt !== null)) break;
      if (Date.now() > deadline) throw new Error(`not all ended: ${rows.map((d) => `${d.app}:${d.kind}:${d.status}`).join(", ")}\n${outputs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const endedMs = Math.max(...rows.map((d) => d.finishedAt!.getTime())) - startedAt;
    expect(rows.map((d) => `${d.app} ${d.kind}: ${d.status}`).filter((x) => !x.endsWith(": succeeded"))).toEqual([]);
    const rels = await h.engine.db.select().from(releases).where(inArray(releases.id, rows.map((d) => d.toReleaseId!)));
    const relOf = (d: (typeof rows)[number]) => rels.find((r) => r.id === d.toReleaseId)!;
    for (const [i, app] of APPS.entries()) {
      // Request order = deployment order: the deploy first (v1), the config change after it ended (v2, with its value).
      const mine = rows.filter((d) => d.app === app);
      expect(mine.map((d) => `${d.kind} by ${d.requestedBy}`), app).toEqual([`deploy by ${person(i)}`, `config by ${person(i + 10)}`]);
      expect(mine.map((d) => relOf(d).number), app).toEqual([1, 2]);
      expect(relOf(mine[1]!).config.REQ, app).toBe(`second-${app}`);
      expect(mine[1]!.startedAt!.getTime(), `${app}: the config change started before the deploy ended`).toBeGreaterThanOrEqual(mine[0]!.finishedAt!.getTime());
      // supervisord == database == pool: one proc of v2 running, pooled, nothing else.
      const live = await liveProcRows(h, app, "stage");
      expect(live.map((p) => p.releaseId), app).toEqual([mine[1]!.toReleaseId]);
      expect(await poolNodes(h, "lb", `${app}_stage`), app).toEqual(nodesOf(live));
    }
    const allLive = (await Promise.all(APPS.map((a) => liveProcRows(h, a, "stage")))).flat();
    expect(await supervisedPrograms(bed)).toEqual(runningProgramsOf(allLive));

    // Every thread tells the truth: its head ends "succeeded", its last reply is the summary naming the release.
    const lastReply = (head: FakeMessage) => fake.thread(CHANNEL, head.ts).filter((m) => m.ts !== head.ts).at(-1);
    const summaryOf = (d: (typeof rows)[number]) => new RegExp(`:white_check_mark: .* is now \\*v${relOf(d).number}\\*`);
    const threadsEnded = () =>
      rows.every((d) => {
        const head = fake.messages.find((m) => m.channel === CHANNEL && !m.thread_ts && m.metadata?.event_payload?.deployment_id === d.id);
        const last = head && lastReply(head);
        return head !== undefined && last !== undefined && summaryOf(d).test(textOf(last)) && /:white_check_mark: succeeded/.test(textOf(head));
      });
    const threadDeadline = Date.now() + 60_000;
    while (!threadsEnded() && Date.now() < threadDeadline) await new Promise((r) => setTimeout(r, 250));
    const threadsMs = Date.now() - startedAt;
    for (const d of rows) {
      const heads = fake.messages.filter((m) => m.channel === CHANNEL && !m.thread_ts && m.metadata?.event_payload?.deployment_id === d.id);
      expect(heads, `${d.app} ${d.kind}: one thread head`).toHaveLength(1);
      expect(textOf(heads[0]!), `${d.app} ${d.kind}: head`).toMatch(/:white_check_mark: succeeded/);
      expect(textOf(lastReply(heads[0]!) ?? {}), `${d.app} ${d.kind}: last reply`).toMatch(summaryOf(d));
    }
    log(`burst of 20: all ended ${(endedMs / 1000).toFixed(1)} s after the first request, all threads ended ${(threadsMs / 1000).toFixed(1)} s after`);
  });

  it("1,000 slash commands in 10 s from 100 people: every one acked 200 within 3 s (busy answers counted), every admitted one answered, the bot's RSS under 300 MB", { timeout: 120_000 }, async () => {
    const pid = bot.child.pid!;
    const commands = Array.from({ length: 1_000 }, (_, i) => ({ text: `status ${APPS[i % APPS.length]} stage`, user: person(i % PEOPLE) }));
    const signed = commands.map((c) => fake.signSlashCommand(url, { ...c, channel: CHANNEL, channelName: "load" }));
    const mark = fake.calls.length;
    const base = new URL(url).origin;
    const port = Number(new URL(url).port);
    const before = await botFigures(base);
    const cpu0 = cpuMs(pid);
    const fakeCpu0 = process.cpuUsage();
    const load0 = loadavg()[0]!;
    const rssStart = memMb(pid, "VmRSS");
    let rssPeak = rssStart;
    let queuePeak = 0;
    let backlog = 0;
    const sampler = setInterval(() => {
      try {
        rssPeak = Math.max(rssPeak, memMb(pid, "VmRSS"));
      } catch {
        // the bot is gone: the checks below say so
      }
      void acceptQueue(port).then((q) => ((queuePeak = Math.max(queuePeak, q.queued)), (backlog = q.backlog)), () => {});
    }, 200);
    const { startedAt, sentAt, results } = await sendPacedApart(signed, 10);
    clearInterval(sampler);
    const sentMs = sentAt.at(-1)!;
    const burstCpuMs = cpuMs(pid) - cpu0;
    const fakeCpu = process.cpuUsage(fakeCpu0);
    const after = bot.child.exitCode === null ? await botFigures(base) : before;
    const served = (s: number) => after.ackLe(s) - before.ackLe(s);

    // Not acked 200: by what came back (status and body, or the socket error), with the first one's time.
    const failed = new Map<string, string>();
    for (const [i, r] of results.entries()) {
      if (r.status === 200) continue;
      const what = "error" in r ? r.error : `${r.status} ${r.body.slice(0, 100)}`;
      failed.set(what, failed.get(what)?.replace(/^(\d+)/, (n) => String(Number(n) + 1)) ?? `1, the first sent at ${sentAt[i]!.toFixed(0)} ms`);
    }
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const busy = results.filter((r) => "body" in r && r.body.includes("Raptor is busy")).length;
    const busyUser = results.filter((r) => "body" in r && r.body.includes("you already have")).length;
    // Every admitted command gets its answer on its response_url (the bot keeps up, it does not pile up work).
    const admitted = signed.filter((_, i) => !("body" in results[i]! && results[i]!.body.includes("Raptor is busy")));
    const pathOf = (s: { body: string }) => new URL(new URLSearchParams(s.body).get("response_url")!).pathname;
    const paths = new Set(admitted.map(pathOf));
    const answeredBy = Date.now() + 30_000;
    const answered = () => fake.calls.slice(mark).filter((c) => c.method === "response_url" && paths.has(String(c.args.url))).length;
    while (answered() < paths.size && Date.now() < answeredBy) await new Promise((r) => setTimeout(r, 100));
    const hwm = memMb(pid, "VmHWM");
    // From a command's sending to its answer reaching the fake Slack's response_url.
    const sentAtOf = new Map(signed.map((s, i) => [pathOf(s), startedAt + sentAt[i]!]));
    const answerMs = fake.calls
      .slice(mark)
      .filter((c) => c.method === "response_url" && paths.has(String(c.args.url)))
      .map((c) => c.at - sentAtOf.get(String(c.args.url))!)
      .sort((a, b) => a - b);
    // Answers that could not read a host or a pool in time (a worker's live read timed out).
    const unread = fake.calls.slice(mark).filter((c) => c.method === "response_url" && paths.has(String(c.args.url)) && /did not answer|unreachable/.test(JSON.stringify(c.args))).length;
    rssPeak = Math.max(rssPeak, memMb(pid, "VmRSS"));
    const figures =
      `1,000 commands sent in ${sentMs.toFixed(0)} ms: ack at the client p50 ${ms[499]!.toFixed(0)} ms, p99 ${ms[989]!.toFixed(0)} ms, max ${ms[999]!.toFixed(0)} ms; ` +
      `busy ${busy} (${busyUser} by the per-person limit); answered ${answered()} of ${paths.size} admitted, p50 ${answerMs[Math.floor(answerMs.length / 2)]?.toFixed(0) ?? "-"} ms, max ${answerMs.at(-1)?.toFixed(0) ?? "-"} ms after sending, ${unread} saying a host or pool did not answer; bot RSS ${rssStart.toFixed(0)} MB -> peak ${rssPeak.toFixed(0)} MB (VmHWM ${hwm.toFixed(0)} MB). ` +
      `The bot's view: ${after.acks - before.acks} acks, ${served(0.1)} within 100 ms, ${served(1)} within 1 s, ${served(3)} within 3 s; event loop lag max ${(after.loopLagMaxS * 1000).toFixed(0)} ms; ` +
      `CPU ${burstCpuMs} ms in ${sentMs.toFixed(0)} ms (${((100 * burstCpuMs) / sentMs).toFixed(0)}% of a core), the fake Slack's process ${((fakeCpu.user + fakeCpu.system) / 1000).toFixed(0)} ms; accept queue peak ${queuePeak} of ${backlog}; load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)} on 2 cores`;
    log(figures);
    expect(Object.fromEntries(failed), `${figures}\n${outputs()}`).toEqual({});
    expect(sentMs, "the test sent the burst in time").toBeLessThan(11_000);
    expect(ms[999]!, `slowest ack of 1,000: ${figures}`).toBeLessThan(SLACK_ACK_MS);
    expect(answered(), `admitted commands answered (busy: ${busy})`).toBe(paths.size);
    expect(rssPeak).toBeLessThan(RSS_LIMIT_MB);
    expect(bot.child.exitCode, outputs()).toBeNull();
  });
});
