import { hostname, userInfo } from "node:os";
import { startBeat, startSayExpire } from "../engine/beat/schedule.ts";
import { otherWorkersAlive, startWorker } from "../engine/worker.ts";
import { parse } from "../bot/grammar.ts";
import { followThread, replyLines, terminalPrinter } from "../bot/terminal.ts";
import { terminalAuthorizer } from "../bot/terminal-access.ts";
import { sayAndPublish } from "../bot/say.ts";
import { terminalText } from "../bot/notify/markup.ts";
import { readSaidCommand, SayInputError, SECRET_ON_ARGV, setsSecretOnArgv } from "./say-input.ts";
import { PlaybookError } from "../playbooks/load.ts";
import { configFromEnv, createRuntime, type Runtime } from "./runtime.ts";
import { USAGE } from "./usage.ts";
import { serveMetrics } from "./observe.ts";
import { makeRunHint, makeRunIsRunning } from "./make-run-hint.ts";
import { asksForDeployment, localSupervisorDown } from "./say-hosts-up.ts";
import { progressLines, quiet } from "./progress.ts";



/** The beat (engine/beat/schedule.ts) as a shutdown hook. */
async function beat(rt: Runtime): Promise<() => Promise<void>> {
  const b = await startBeat(rt.engine, { leaseMs: rt.config.beatLeaseMs });
  return () => b.close();
}

async function say(rt: Runtime, text: string): Promise<number> {
  const print = terminalPrinter(process.stdout);
  const actor = { id: process.env.RAPTOR_USER ?? userInfo().username };
  let embeddedWorker: Awaited<ReturnType<typeof startWorker>> | undefined;
  let stopBeat: () => Promise<void> | void = () => {};
  // A worker of its own only when no other is alive on this Redis and database (`make run`, `raptor
  // all`, `raptor worker`): those have the operator's environment (supervisord port, password) and
  // the beat; say's environment may be another shell's. RAPTOR_SAY_WORKER=0: never one here.
  const ownWorker = process.env.RAPTOR_SAY_WORKER !== "0" && (await otherWorkersAlive(rt.engine.queues).catch(() => undefined)) !== true;
  try {
    // status, ps and logs read hosts through a worker (the bot side holds no host credentials), and
    // plan reads commits through one: with no `raptor worker` running, one here answers them (reads only).
    const parsed = parse(text);
    if (ownWorker && parsed.ok && ["status", "logs", "plan"].includes(parsed.command.kind)) embeddedWorker = await startWorker(rt.engine, { say: {} });
    // This say would run the deployment itself, here: a supervisord of this machine that does not
    // answer would fail it at `start`, after a build and a release (bin/say-hosts-up.ts).
    if (ownWorker && parsed.ok) {
      const makeRun = !rt.config.databaseUrl && !makeRunIsRunning(rt.config.dataDir);
      const down = await localSupervisorDown(rt.engine.playbook, parsed.command, text.trim(), makeRun);
      if (down) {
        print(`✗ ${terminalText(down)}`);
        return 1;
      }
    }
    // The terminal chats open on this Raptor (make run's) see the command, as a channel would.
    const reply = await sayAndPublish({ engine: rt.engine, authorizer: terminalAuthorizer }, { text, actor, parsed });
    for (const l of replyLines(reply)) print(l);
    if (reply.kind === "parse_error") return 2;
    if (reply.kind === "refused") return 1;
    const follow = reply.kind === "deployment" ? reply.deploymentId : reply.kind === "done" && /approve/.test(text) ? reply.deploymentId : undefined;
    if (!follow) return 0;
    // Only now, with work to follow and no other worker alive: a worker here for this deployment
    // only (never another's, never the beat's maintenance jobs) makes `say` self-sufficient.
    if (ownWorker) {
      await embeddedWorker?.close();
      embeddedWorker = await startWorker(rt.engine, { say: { deploymentId: follow } });
      // Not the beat, only what ends a followed deployment that nobody approves (engine/beat).
      stopBeat = startSayExpire(rt.engine);
    }
    const conn = rt.redisConnection();
    const last = await followThread(conn, rt.engine.prefix, follow, print, { from: reply.kind === "deployment" ? reply.since : undefined });
    return last?.type === "deployment.succeeded" ? 0 : 1;
  } finally {
    await stopBeat();
    await embeddedWorker?.close();
  }
}

/**
 * Every command but `raptor bot` on Slack (bin/slack-ack-thread.ts): one runtime in this thread,
 * then the command. Resolves with the exit code.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const [cmd = "", ...rest] = argv;
  let rt: Runtime;
  const config = configFromEnv();
  // The long-running commands say what they are doing until ready (bin/progress.ts).
  const progress = ["all", "bot", "worker", "beat"].includes(cmd) ? progressLines(process.stderr) : quiet;
  progress("modules loaded");
  let said = "";
  if (cmd === "say") {
    if (rest.length === 0) {
      process.stderr.write('raptor say: give the command text, e.g. raptor say "help" (or raptor say - with the command on stdin)\n');
      return 2;
    }
    if (rest.length === 1 && rest[0] === "-") {
      try {
        said = await readSaidCommand(process.stdin);
      } catch (err) {
        if (!(err instanceof SayInputError)) throw err;
        process.stderr.write(`${terminalText(err.message)}\n`);
        return 2;
      }
    } else {
      said = rest.join(" ");
      // Before anything opens: nothing of the command is stored or published.
      if (setsSecretOnArgv(said, parse(said))) {
        process.stderr.write(`${terminalText(SECRET_ON_ARGV)}\n`);
        return 1;
      }
    }
    // Said before the runtime opens (seconds): the answer to come may be an unreachable supervisord.
    // A deployment is checked instead, once the playbook is read: refused at once when its squad's
    // supervisord here does not answer (say()).
    const parsedSaid = parse(said);
    const hint = parsedSaid.ok && asksForDeployment(parsedSaid.command) ? undefined : makeRunHint({ databaseUrl: config.databaseUrl, running: makeRunIsRunning(config.dataDir), supervisorPort: process.env.RAPTOR_SUPERVISOR_PORT });
    if (hint) process.stderr.write(`${terminalText(hint)}\n`);
  }
  try {
    rt = await createRuntime(config, undefined, progress);
  } catch (err) {
    if (err instanceof PlaybookError) {
      process.stderr.write(`raptor: the playbooks have mistakes:\n${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const shutdown: (() => Promise<void> | void)[] = [() => rt.close()];
  const stop = async () => {
    for (const f of shutdown.reverse()) await f();
  };
  try {
    switch (cmd) {
      case "say":
        return await say(rt, said);
      case "worker": {
        progress("starting the worker");
        const w = await startWorker(rt.engine, { name: workerName(cmd) });
        shutdown.push(() => w.close());
        shutdown.push(await serveMetrics(rt, "worker"));
        progress("ready: the worker takes jobs");
        await waitForSignal();
        return 0;
      }
      case "beat":
        progress("starting the beat");
        shutdown.push(await beat(rt));
        shutdown.push(await serveMetrics(rt, "beat"));
        progress("ready: the beat keeps its schedule");
        await waitForSignal();
        return 0;
      case "bot":
      case "all": {
        if (cmd === "all") {
          progress("starting the worker");
          const w = await startWorker(rt.engine, { name: workerName(cmd) });
          shutdown.push(() => w.close());
          progress("starting the beat");
          shutdown.push(await beat(rt));
        }
        progress("starting the chat");
        const { startChat } = await import("./chat.ts");
        await startChat(rt, shutdown);
        return 0;
      }
      default:
        process.stderr.write(`raptor: unknown command "${cmd}"\n${USAGE}\n`);
        return 2;
    }
  } finally {
    await stop();
  }
}

/** This process's BullMQ worker name, e.g. `worker-myhost-4242`: a job's processedBy names the process that ran it. */
function workerName(cmd: string): string {
  return `${cmd}-${hostname()}-${process.pid}`.replace(/[^\w.-]/g, "_");
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

