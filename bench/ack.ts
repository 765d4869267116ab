/**
 * bench/ack: the Slack bot under a burst. 50 concurrent senders post signed `/raptor` slash
 * commands for 20 s (autocannon), as 50 people in one channel, 4 `status` for every `deploy`, to
 * (a) a bare Bolt app that only acks (bench/bare-bolt.ts) and (b) `raptor bot` with a
 * `raptor worker` beside it, on a real test bed: Postgres, Redis, one ssh+supervisord host with
 * the app deployed (so `status` reads supervisord through the worker), the fake Slack for the Web
 * API and response_url. The environment is locked, so each `deploy` takes the whole request path
 * (parse, access, lock check, audit, answer) without starting 10,000 deployments.
 *
 * Prints, per app: ack latency p50/p99 (autocannon's, from request sent to ack received), the
 * bot's RSS peak (VmHWM of its process) and, for Raptor, how many commands were answered busy and
 * how long after the burst's end the last admitted command was answered (the backlog drain).
 * Raptor's bot and worker run compiled (scripts/build.sh), as in production; the bare app runs
 * with tsx (a few tens of MB and no per-request cost once loaded, so its RSS is the high side).
 * Ratios are against the bare app in this same run. Targets (issue 14): p99 < 50 ms and <= 2x
 * bare Bolt; RSS peak < 300 MB; backlog drained within 2 s of the burst's end.
 * With BENCH_ROUNDS=n, n rounds of one burst each, alternating which app goes first (a shared
 * machine's load changes between bursts); each round is its own table with its own ratios.
 * Env: BENCH_SECONDS (default 20), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 1), BENCH_BOT_NODE_FLAGS (node flags
 * for the bot's process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see what its threads do).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import autocannon from "autocannon";
import postgres from "postgres";
import { makeAppRepo, HELLO_APP } from "../test/support/app-repo.ts";
import { compiledRaptor } from "./compiled-raptor.ts";
import { slackSignature } from "../test/support/fake-slack.ts";
import { slashCommandFields, type PayloadContext } from "../test/support/fake-slack/payloads.ts";
import { startHarness } from "../test/support/raptor-harness.ts";
import { startTestbed } from "../test/support/testbed.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const PG = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECRET = "bench-signing-secret";
const TOKEN = "xoxb-bench-token";
const CHANNEL = "C0BENCH";
const ROOT = resolve(import.meta.dirname, "..");

interface Child {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the first stdout/stderr match of `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

/**
 * A node process running `script` (so its pid is the one whose memory we read): a `.ts` file with
 * tsx in-process, a `.js` file (the compiled Raptor, as production runs it) as is.
 */
function node(script: string, args: string[], env: Record<string, string>, flags: string[] = []): Child {
  const argv = [...flags, ...(script.endsWith(".js") ? [script, ...args] : ["--import", "tsx", resolve(ROOT, script), ...args])];
  const proc = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let out = "";
  const listeners: (() => void)[] = [];
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const l of listeners.splice(0)) l();
  };
  proc.stdout!.on("data", add);
  proc.stderr!.on("data", add);
  const exited = new Promise<void>((r) => proc.on("close", () => r()));
  return {
    proc,
    output: () => out,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`${script} did not print ${re} in ${timeoutMs} ms:\n${out.slice(-2000)}`)), timeoutMs);
        const check = () => {
          const m = out.match(re);
          if (m) return clearTimeout(timer), res(m);
          if (proc.exitCode !== null) return clearTimeout(timer), rej(new Error(`${script} exited ${proc.exitCode}:\n${out.slice(-2000)}`));
          listeners.push(check);
        };
        check();
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

interface SlackStats {
  answers: number;
  lastAt: number;
  lastText: string;
  teamId: string;
  botUserId: string;
  botId: string;
}

/** What the fake Slack process has received (bench/fake-slack-process.ts). */
function slackStats(fake: Child): Promise<SlackStats> {
  return new Promise((res) => {
    fake.proc.once("message", (m) => res(m as SlackStats));
    fake.proc.send("stats");
  });
}

/** One signed slash command, as Slack posts it. */
async function slashCommand(url: string, ctx: PayloadContext, text: string, user: string): Promise<void> {
  const body = new URLSearchParams(slashCommandFields(ctx, { text, user, channel: CHANNEL, channelName: "bench" })).toString();
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(SECRET, ts, body) } });
  await res.text();
}

/** Resident memory of a process now and its peak so far (VmRSS, VmHWM), in MB. */
function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(status.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

interface Burst {
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  busy: number;
  endedAt: number;
  rssStart: number;
  rssPeak: number;
}

/** 50 senders (one Slack user each) post signed slash commands to `url` for SECONDS. */
async function burst(url: string, ctx: PayloadContext, pid: number): Promise<Burst> {
  let busy = 0;
  let n = 0;
  const rssStart = memoryMb(pid).rss;
  let rssPeak = rssStart;
  const sampler = setInterval(() => {
    try {
      rssPeak = Math.max(rssPeak, memoryMb(pid).rss);
    } catch {
      // exited; the error shows below
    }
  }, 100);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: "POST",
        setupRequest: (req: Record<string, unknown>, context: Record<string, unknown>) => {
          context.user ??= `U0BENCH${String(n % CONNECTIONS).padStart(2, "0")}`;
          const text = ++n % 5 === 0 ? "deploy hello stage" : "status hello stage";
          const body = new URLSearchParams(slashCommandFields(ctx, { text, user: context.user as string, channel: CHANNEL, channelName: "bench" })).toString();
          const ts = Math.floor(Date.now() / 1000);
          return {
            ...req,
            body,
            headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": slackSignature(SECRET, ts, body) },
          };
        },
        onResponse: (_status: number, body: string) => {
          if (body && body.includes("Raptor is busy")) busy++;
        },
      },
    ],
  });
  const endedAt = Date.now();
  clearInterval(sampler);
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx + result.errors + result.timeouts,
    busy,
    endedAt,
    rssStart,
    rssPeak: Math.max(rssPeak, memoryMb(pid).peak),
  };
}

/** One burst at the bare app, said on stderr. */
async function bareBurst(url: string, bare: Child, round: number, ctx = benchCtx!): Promise<Burst> {
  process.stderr.write(`round ${round}: bare Bolt: ${SECONDS} s, ${CONNECTIONS} connections (load average ${loadavg()[0]!.toFixed(1)})...\n`);
  return burst(url, ctx, bare.proc.pid!);
}

/** Prints one round's table and its verdict. */
function report(round: number, b: Burst, r: Burst, answered: number, admitted: number, drainMs: number, sample: string): void {
  const rows = [
    [`round ${round}`, "bare Bolt", "raptor bot", "ratio"],
    ["ack p50", `${b.p50} ms`, `${r.p50} ms`, (r.p50 / Math.max(b.p50, 1)).toFixed(2)],
    ["ack p99", `${b.p99} ms`, `${r.p99} ms`, (r.p99 / Math.max(b.p99, 1)).toFixed(2)],
    ["requests (acked)", `${b.requests - b.non2xx}`, `${r.requests - r.non2xx}`, ""],
    ["non-2xx / errors", `${b.non2xx}`, `${r.non2xx}`, ""],
    ["RSS start -> peak", `${b.rssStart.toFixed(0)} -> ${b.rssPeak.toFixed(0)} MB`, `${r.rssStart.toFixed(0)} -> ${r.rssPeak.toFixed(0)} MB`, (r.rssPeak / b.rssPeak).toFixed(2)],
    ["answered busy (in the ack)", "-", `${r.busy}`, ""],
    ["admitted and answered", "-", `${answered} of ${admitted}`, ""],
    ["backlog drained after the burst", "-", `${drainMs} ms`, ""],
  ];
  for (const row of rows) process.stdout.write(`${row[0]!.padEnd(32)} ${row[1]!.padEnd(18)} ${row[2]!.padEnd(18)} ${row[3]}\n`);
  process.stdout.write(`(last answer: ${JSON.stringify(String(sample ?? "").slice(0, 100))})\n`);
  const ok = r.p99 < 50 && r.p99 <= 2 * Math.max(b.p99, 1) && r.rssPeak < 300 && drainMs <= 2_000 && answered >= admitted;
  process.stdout.write(`targets (p99 < 50 ms and <= 2x bare, RSS peak < 300 MB, drained <= 2 s, all admitted answered): ${ok ? "met" : "NOT met"}\n`);
}

let benchCtx: PayloadContext | undefined;

async function main() {
  const dbName = `raptor_bench_${Date.now().toString(36)}`;
  const admin = postgres(PG, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const dbUrl = new URL(PG);
  dbUrl.pathname = `/${dbName}`;
  const bed = await startTestbed({ hosts: 1 });
  const repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
  const fake = node("bench/fake-slack-process.ts", [], { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN, BENCH_USERS: String(CONNECTIONS), BENCH_CHANNEL: CHANNEL });
  const fakeUrl = (await fake.waitFor(/url (\S+)/))[1]!;
  const ids = await slackStats(fake);
  const ctx: PayloadContext = { teamId: ids.teamId, appId: "A0000001", botUserId: ids.botUserId, botId: ids.botId, url: fakeUrl };
  benchCtx = ctx;
  const h = await startHarness({
    databaseUrl: dbUrl.toString(),
    workers: 0,
    playbookYaml: {
      "pb.yaml": [
        "squads:",
        bed.squadYaml("one"),
        "balancers:",
        "  lb: { kind: memory }",
        "apps:",
        "  hello:",
        `    repo: ${JSON.stringify(repo.path)}`,
        "    environments: { stage: { squad: one, size: { web: 2 }, balancer: lb, pool: p_stage, uptest_timeout: 20s } }",
      ].join("\n"),
    },
  });
  const children: Child[] = [fake];
  const slackEnv = { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: `${fakeUrl}/api/`, LOG_LEVEL: "warn" };
  try {
    // The warm-up deploy runs on a worker here, closed after: during the burst only the child worker reads hosts.
    const setupWorker = await h.startWorker();
    const first = await h.say("deploy hello stage");
    if (first.final?.type !== "deployment.succeeded") throw new Error(`the warm-up deploy failed:\n${first.text}`);
    await h.say("lock hello stage bench: deploys are refused, reads go on");
    await setupWorker.close();
    const bare = node("bench/bare-bolt.ts", [], slackEnv);
    children.push(bare);
    const barePort = Number((await bare.waitFor(/listening (\d+)/))[1]);
    const env = { ...h.env, ...slackEnv, PORT: "0", RAPTOR_LOG_FILE: resolve(h.dataDir, "bench-bot.log") };
    // Raptor as production runs it: compiled JavaScript (scripts/build.sh), no tsx in the process.
    const raptor = await compiledRaptor();
    const worker = node(raptor, ["worker"], { ...env, RAPTOR_LOG_FILE: resolve(h.dataDir, "bench-worker.log") });
    children.push(worker);
    const bot = node(raptor, ["bot"], env, (process.env.BENCH_BOT_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean));
    children.push(bot);
    const botPort = Number((await bot.waitFor(/listening on :(\d+)/))[1]);
    // One status through bot and worker before the burst: both are up, the host is read.
    const before = (await slackStats(fake)).answers;
    await slashCommand(`http://127.0.0.1:${botPort}/slack/events`, ctx, "status hello stage", "U0BENCH00");
    const warmDeadline = Date.now() + 60_000;
    let warm = await slackStats(fake);
    while (warm.answers === before && Date.now() < warmDeadline) {
      await new Promise((res) => setTimeout(res, 100));
      warm = await slackStats(fake);
    }
    if (!/RUNNING/.test(warm.lastText)) throw new Error(`status before the burst did not read the host: ${warm.lastText}`);

    const bareUrl = `http://127.0.0.1:${barePort}/slack/events`;
    const botUrl = `http://127.0.0.1:${botPort}/slack/events`;
    for (let round = 1; round <= ROUNDS; round++) {
      // Rounds alternate which app goes first, so a change in the machine's load between the two
      // bursts of a round does not always favour the same one.
      const bareFirst = round % 2 === 1;
      let b: Burst | undefined;
      if (bareFirst) b = await bareBurst(bareUrl, bare, round);
      process.stderr.write(`round ${round}: raptor bot: ${SECONDS} s, ${CONNECTIONS} connections (load average ${loadavg()[0]!.toFixed(1)})...\n`);
      const answeredBefore = (await slackStats(fake)).answers;
      const r = await burst(botUrl, ctx, bot.proc.pid!);
      const admitted = r.requests - r.non2xx - r.busy;
      // The backlog: commands acked and admitted whose answer has not reached response_url yet.
      const deadline = Date.now() + 180_000;
      let stats = await slackStats(fake);
      while (stats.answers - answeredBefore < admitted && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 50));
        stats = await slackStats(fake);
      }
      // The counter updates every 20 ms: one more look so the last answer's time is in.
      await new Promise((res) => setTimeout(res, 100));
      stats = await slackStats(fake);
      const answered = stats.answers - answeredBefore;
      const drainMs = Math.max(0, stats.lastAt - r.endedAt);
      const sample = stats.lastText;
      r.rssPeak = Math.max(r.rssPeak, memoryMb(bot.proc.pid!).peak);
      if (!bareFirst) b = await bareBurst(bareUrl, bare, round);
      report(round, b!, r, answered, admitted, drainMs, sample);
    }
  } finally {
    for (const c of children.reverse()) await c.stop();
    await h.close();
    await bed.stop();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
