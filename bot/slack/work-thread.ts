import { Worker } from "node:worker_threads";
import { errorFields, type Logger } from "../../lib/logger.ts";
import type { HealthReport } from "../../lib/observe-http.ts";
import type { CommandAnswerer } from "./app.ts";
import type { CommandJob } from "./command-job.ts";
import type { FromWork, ToWork } from "./work-protocol.ts";

/** How a WorkThread starts and restarts its thread. */
export interface WorkThreadOptions {
  /** The thread's module (bin/slack-command-thread.ts, or a test's). */
  entry: URL;
  /** Given to the thread as workerData. */
  workerData?: unknown;
  log: Logger;
  /** Told of each start-up phase the thread reports. */
  onProgress?: (phase: string) => void;
  /** Waits before each restart after a death, ms; the last repeats. Default 500, 2000, 5000, 15000. */
  restartDelaysMs?: readonly number[];
  /** V8 limits of the thread's heap (worker_threads ResourceLimits). */
  resourceLimits?: import("node:worker_threads").ResourceLimits;
  /** A thread that ran this long before dying counts as a first death again (ms). Default 60 000. */
  stableMs?: number;
}

/** What an author reads when the command thread is being restarted. */
export const RESTARTING_TEXT = "Raptor is restarting its command thread after a failure. Nothing was started for this one; send it again in a few seconds.";

export class WorkThreadStartError extends Error {
  override name = "WorkThreadStartError";
  constructor(
    message: string,
    /** The operator's own mistake (playbooks, token, secret key): print the message alone. */
    readonly oneLine: boolean,
  ) {
    super(message);
  }
}

/**
 * What the Worker runs for `entry`: the file itself when compiled (.js); under tsx (make run, the
 * tests) a small module that registers tsx's loader in the new thread first, since a worker thread
 * does not inherit the loader the main thread was started with.
 */
function workerTarget(entry: URL): URL {
  if (!entry.pathname.endsWith(".ts")) return entry;
  const tsx = import.meta.resolve("tsx/esm/api");
  const code = `import { register } from ${JSON.stringify(tsx)};\nregister();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

type Pending = { resolve: (v: never) => void; reject: (e: Error) => void; fallback?: unknown };

/**
 * The Slack bot's command thread, seen from the thread that acks (issue 14 item 4). Slack wants
 * every request acked within 3 s, and acking is cheap; answering a command is not (database
 * reads, a reply over HTTP). In one event loop, a burst of admitted commands delayed the acks of
 * everyone else (bench/ack: p99 95 ms against 36 ms for a bare Bolt app), so `raptor bot` acks in
 * its main thread and answers in a worker thread that owns the database, Redis, queue and Slack
 * clients (bin/slack-command-thread.ts).
 *
 * If the thread dies (an uncaught error, out of memory), every command it was answering rejects
 * (the Slack app tells their authors), the death is logged, and a new thread is started after a
 * delay that grows with repeated deaths; meanwhile `unavailable()` says so, and the app answers
 * new commands with it at once instead of queueing them.
 */
export class WorkThread implements CommandAnswerer {
  private worker: Worker | undefined;
  private ready = false;
  private stopping = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private deaths = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Threads started so far (1 after start(); more after restarts). */
  starts = 0;

  constructor(private readonly o: WorkThreadOptions) {}

  /** Starts the thread; resolves when it is ready, rejects with WorkThreadStartError if it fails first. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.spawn(resolve, reject));
  }

  private spawn(onReady?: () => void, onFail?: (err: Error) => void): void {
    this.starts++;
    this.startedAt = Date.now();
    const w = new Worker(workerTarget(this.o.entry), { workerData: this.o.workerData, ...(this.o.resourceLimits ? { resourceLimits: this.o.resourceLimits } : {}) });
    this.worker = w;
    // The first start's failure goes to start()'s caller (the operator's mistake: no retry); a
    // restart's failure is retried with the growing delay.
    const first = onFail !== undefined;
    let failed: string | undefined;
    let oneLine = false;
    w.on("message", (m: FromWork) => {
      switch (m.type) {
        case "progress":
          this.o.onProgress?.(m.phase);
          return;
        case "ready":
          this.ready = true;
          if (this.starts > 1) this.o.log.info({ starts: this.starts }, "the command thread is running again");
          onReady?.();
          return;
        case "failed":
          failed = m.message;
          oneLine = m.oneLine;
          this.o.log.error({ err: m.message }, "the command thread could not start");
          return;
        case "answered":
        case "metrics":
        case "health": {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          (p.resolve as (v: unknown) => void)(m.type === "metrics" ? m.text : m.type === "health" ? m.report : undefined);
          return;
        }
        case "stopped":
          return;
        default: {
          const never: never = m;
          throw new Error(`unknown message from the command thread: ${JSON.stringify(never)}`);
        }
      }
    });
    w.on("error", (err: Error) => {
      failed ??= err.message;
      this.o.log.error({ ...errorFields(err) }, "the command thread failed");
    });
    w.on("exit", (code) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      const wasReady = this.ready;
      this.ready = false;
      const lost = [...this.pending.values()];
      this.pending.clear();
      for (const p of lost) {
        if ("fallback" in p && p.fallback !== undefined) (p.resolve as (v: unknown) => void)(p.fallback);
        else p.reject(new Error(`the command thread exited (code ${code})${failed ? `: ${failed}` : ""}`));
      }
      if (this.stopping) return;
      if (first && !wasReady) {
        onFail!(new WorkThreadStartError(failed ?? `the command thread exited (code ${code}) before it was ready`, oneLine));
        return;
      }
      if (Date.now() - this.startedAt >= (this.o.stableMs ?? 60_000)) this.deaths = 0;
      const delays = this.o.restartDelaysMs ?? [500, 2_000, 5_000, 15_000];
      const delay = delays[Math.min(this.deaths, delays.length - 1)] ?? 1_000;
      this.deaths++;
      this.o.log.error({ code, lostCommands: lost.length, restartInMs: delay, ...(failed ? { err: failed } : {}) }, "the command thread died; restarting it");
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.stopping) this.spawn();
      }, delay);
    });
  }

  private ask<T>(msg: ToWork & { id: number }, fallback?: T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(msg.id, { resolve: resolve as (v: never) => void, reject, ...(fallback !== undefined ? { fallback } : {}) });
      this.worker!.postMessage(msg);
    });
  }

  unavailable(): string | undefined {
    return this.ready && this.worker ? undefined : RESTARTING_TEXT;
  }

  /** Answers one command in the thread; rejects if the thread dies first. */
  answer(job: CommandJob): Promise<void> {
    if (!this.ready || !this.worker) return Promise.reject(new Error("the command thread is not running"));
    return this.ask<void>({ type: "command", id: this.nextId++, job });
  }

  /** The thread's metrics text; empty while it is down. */
  metricsText(): Promise<string> {
    if (!this.ready || !this.worker) return Promise.resolve("");
    return this.ask<string>({ type: "metrics", id: this.nextId++ }, "");
  }

  /** Redis and Postgres as the thread sees them; unhealthy, saying why, while it is down. */
  health(): Promise<HealthReport> {
    const down: HealthReport = { ok: false, redis: "unknown", postgres: "unknown", commands: "the command thread is not running (being restarted)" };
    if (!this.ready || !this.worker) return Promise.resolve(down);
    return this.ask<HealthReport>({ type: "health", id: this.nextId++ }, down);
  }

  /** Commands being answered in the thread now. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Asks the thread to finish (threads flushed, clients closed) and waits for it to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const w = this.worker;
    if (!w) return;
    const exited = new Promise<void>((r) => w.once("exit", () => r()));
    w.postMessage({ type: "stop" } satisfies ToWork);
    // A thread that does not finish in 30 s is ended: shutdown must end.
    const t = setTimeout(() => void w.terminate(), 30_000);
    await exited;
    clearTimeout(t);
  }
}
