import type { ErrorCode } from "../lib/error-codes.ts";
import { createReadStream } from "node:fs";
import { connect } from "node:net";
import type { Host } from "./host.ts";
import { hostLayout } from "./host-layout.ts";
import { buildTarballPath, expandRoot, parseProcName, procPaths, type ProcNameParts } from "./proc-layout.ts";
import { sharedProcessInfo } from "./running-watch.ts";
import { includeMissing } from "./host-readiness.ts";
import { ensureProcUser, procIdentity, type ProcIdentity } from "./proc-user.ts";
import type { ProcessInfo, Supervisor } from "./supervisor/types.ts";
import { Faults, SupervisorError } from "./supervisor/xmlrpc-client.ts";

/** Everything needed to lay out and start one proc on one host. */
export interface ProcSpec {
  /** procName(...) of this proc; the procs row (by id) is the truth, the name is for people. */
  name: string;
  app: string;
  env: string;
  procType: string;
  release: number;
  /** Absent for proc types without a port (workers). */
  port?: number;
  /** The host's name as procs see it: HOST in their env, the address they bind to. */
  hostName: string;
  /** The squad's root; `{host}` is expanded with the Host's name, as in removeProc/uploadBuild. */
  root: string;
  build: { id: string; md5: string };
  /** The Procfile command line (the app author's shell line). */
  cmd: string;
  /** The release's resolved config env. */
  config: Record<string, string>;
  settings: Record<string, unknown>;
  /**
   * supervisord's `startsecs`: seconds the program must stay up after starting to count as
   * RUNNING (0: at once). The environment's `startsecs` key; default 1.
   */
  startSecs?: number;
  /**
   * The squad's `user:`/`group:`: a name or a `{app}` template (proc-user.ts; absent: one user per
   * app, `raptor-<app>`). Applied when the host is reached as root: files are chowned to it and
   * supervisord runs the proc as it.
   */
  user?: string;
  group?: string;
}

/**
 * A proc that did not come up (or a step on it that failed). `output` carries the evidence (its
 * log tail), kept out of the message so a notifier shows it once; toEngineError keeps both.
 */
export class ProcError extends Error {
  readonly code = "proc_failed" satisfies ErrorCode;
  constructor(
    message: string,
    readonly host: string,
    readonly output?: string,
  ) {
    super(message);
    this.name = "ProcError";
  }
}

export interface ListedProc extends ProcNameParts {
  name: string;
  statename: ProcessInfo["statename"];
  pid: number;
}

const LOG_TAIL_BYTES = 4000;
/** Waiting polls (RUNNING, an open port) start fast and back off: most procs come up within a second. */
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 100;
/** States in which a proc's process may still be alive. */
const UP_STATES = new Set(["STARTING", "RUNNING", "BACKOFF", "STOPPING"]);

/** The `process` runner: plain processes under supervisord, laid out as in proc-layout.ts. */
export class ProcessRunner {
  /** Uploads the build unless `<root>/builds/<id>.tar.gz` is already there with this md5. */
  async uploadBuild(host: Host, b: { buildId: string; md5: string; localPath: string; root: string }): Promise<{ uploaded: boolean }> {
    const path = buildTarballPath(expandRoot(b.root, host.name), b.buildId);
    if ((await remoteMd5(host, path)) === b.md5) return { uploaded: false };
    await host.upload(createReadStream(b.localPath), path, 0o644);
    const md5 = await remoteMd5(host, path);
    if (md5 !== b.md5) throw new ProcError(`build ${b.buildId} on ${host.name} has md5 ${md5 ?? "(unreadable)"} after upload, expected ${b.md5}`, host.name);
    return { uploaded: true };
  }

  /**
   * Lays the proc out and starts it under supervisord: startProcs with one proc.
   * Does not wait: follow with waitRunning and waitPort.
   */
  async startProc(host: Host, supervisor: Supervisor, spec: ProcSpec): Promise<void> {
    await this.startProcs(host, supervisor, [spec]);
  }

  /**
   * Lays out and starts procs that share a host, a root and a build, in one go (issue 14, fault 2):
   * one look at supervisord, one remote command writing every file (host-layout.ts), one
   * `reloadConfig`, then each proc added and started. Idempotent: a proc already STARTING or
   * RUNNING is left alone; the others get their directories rebuilt from the build and are
   * (re)added. Does not wait: follow with waitRunning and waitPort. Throws ProcError when the
   * layout fails on the host (its stderr in the message), SupervisorError from supervisord.
   */
  async startProcs(host: Host, supervisor: Supervisor, specs: readonly ProcSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const infos = await supervisor.getAllProcessInfo();
    const live = new Set(infos.filter((i) => i.statename === "RUNNING" || i.statename === "STARTING").map((i) => i.name));
    const todo = specs.filter((s) => !live.has(s.name));
    if (todo.length === 0) return;
    // Procs never run as root: as root, Raptor runs them as the squad's user; a host reached as
    // another user runs them as that user (supervisord cannot switch users there).
    // Procs laid out together share a build, so an app and its user (proc-user.ts), which Raptor
    // creates here when it manages it and it is missing.
    const owner = (await reachedAsRoot(host)) ? procOwner(todo[0]!) : undefined;
    if (owner) await ensureProcUser(host, owner);
    const layout = hostLayout(host.name, todo, owner);
    const r = await host.exec(layout.argv, { stdin: layout.stdin, timeoutMs: 120_000 });
    if (r.code !== 0) {
      throw new ProcError(`laying out ${todo.length === 1 ? `proc ${todo[0]!.name}` : `${todo.length} procs`} on ${host.name} failed (exit ${r.code}): ${r.stderr.trim().slice(-2000)}`, host.name);
    }

    const { changed } = await supervisor.reloadConfig();
    const root = expandRoot(todo[0]!.root, host.name);
    // What `supervisorctl update` does for a changed program: drop the old group, add the new.
    for (const spec of todo) if (changed.includes(spec.name)) await supervisor.removeProcessGroup(spec.name);
    await supervisor.addAndStart(todo.map((s) => s.name)).catch((e: unknown) => {
      // BAD_NAME right after a reload that wrote the file: supervisord never read it.
      if (e instanceof SupervisorError && e.faultCode === Faults.BAD_NAME && e.method === "supervisor.addProcessGroup") {
        const f = includeMissing(host.name, root);
        throw new ProcError(`${f.problem}: it answered BAD_NAME to addProcessGroup right after reloadConfig. Fix: ${f.fix}`, host.name);
      }
      throw e;
    });
  }

  /**
   * Waits until supervisord says the proc is RUNNING; FATAL/BACKOFF/EXITED/STOPPED fail with its
   * log tail. Polls fast at first (20 ms, doubling up to `pollMs`, default 100 ms), and every
   * waiter on the same Supervisor shares each `getAllProcessInfo` (running-watch.ts), so a host
   * with 12 starting procs is asked once per poll, not 12 times. supervisord reports RUNNING only
   * after the program's `startsecs`.
   */
  async waitRunning(supervisor: Supervisor, name: string, o: { timeoutMs: number; pollMs?: number; host?: string }): Promise<ProcessInfo> {
    const since = performance.now();
    const deadline = Date.now() + o.timeoutMs;
    let last: ProcessInfo | undefined;
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, o.pollMs ?? MAX_POLL_MS)) {
      last = (await sharedProcessInfo(supervisor, since)).find((i) => i.name === name);
      if (last?.statename === "RUNNING") return last;
      const failed = !last || ["FATAL", "BACKOFF", "EXITED", "STOPPED", "UNKNOWN"].includes(last.statename);
      if (failed || Date.now() >= deadline) {
        const why = !last
          ? "is not known to supervisord"
          : failed
            ? `was last seen ${last.statename}${last.spawnerr ? ` (${flatParens(last.spawnerr)})` : ""}`
            : `is still ${last.statename} after ${o.timeoutMs}ms`;
        throw new ProcError(`proc ${name} ${why}`, o.host ?? "", await this.failureTail(supervisor, name));
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    }
  }

  /**
   * Waits until host:port accepts a TCP connection, checked from Raptor's side. When nothing does,
   * the error names the PORT and HOST the proc was given (the usual cause: it listens elsewhere)
   * and, given `supervisor` and `name`, carries the proc's log tail as its output.
   */
  async waitPort(host: Host, o: { host: string; port: number; timeoutMs: number; supervisor?: Supervisor; name?: string }): Promise<void> {
    const deadline = Date.now() + o.timeoutMs;
    let lastError = "";
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      const attempt = Math.max(100, Math.min(2000, deadline - Date.now()));
      const err = await tcpConnect(o.host, o.port, attempt);
      if (!err) return;
      lastError = err;
      if (Date.now() >= deadline) {
        const who = o.name ? `proc ${o.name}` : "the proc";
        const tail = o.supervisor && o.name ? await this.failureTail(o.supervisor, o.name) : undefined;
        throw new ProcError(
          `nothing accepts connections on ${o.host}:${o.port} (host ${host.name}) after ${o.timeoutMs}ms (${lastError}): ` +
            `${who} was given PORT=${o.port} and HOST=${o.host}; does it listen there?`,
          host.name,
          tail,
        );
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    }
  }

  /** Stops the proc (no error when it is not running or not known). */
  async stopProc(_host: Host, supervisor: Supervisor, o: { name: string }): Promise<void> {
    await supervisor.stopProcess(o.name, true);
  }

  /** Stops and removes the proc from supervisord and deletes its files. Idempotent. */
  async removeProc(host: Host, supervisor: Supervisor, o: { name: string; root: string }): Promise<void> {
    const p = procPaths(expandRoot(o.root, host.name), o.name);
    await supervisor.stopProcess(o.name, true);
    await supervisor.removeProcessGroup(o.name);
    // The log goes too: the evidence of a failed start was already taken by waitRunning.
    await run(host, ["rm", "-rf", "--", p.supervisorConf, p.dir, p.stdoutLog, `${p.stdoutLog}.1`, `${p.stdoutLog}.2`]);
  }

  /**
   * Stops and removes several procs of one host together: every stop is sent at once (no wait),
   * then supervisord is polled fast until they are all down (our polls also wake its main loop,
   * which otherwise sleeps up to 1 s before noticing an exit), then their groups are removed and
   * all their files go in one remote command. Idempotent, like removeProc. Throws ProcError when
   * a proc is still up after `stopTimeoutMs` (default 60 s; supervisord kills after stopwaitsecs).
   */
  async removeProcs(host: Host, supervisor: Supervisor, o: { names: readonly string[]; root: string; stopTimeoutMs?: number }): Promise<void> {
    if (o.names.length === 0) return;
    const root = expandRoot(o.root, host.name);
    const paths = o.names.map((n) => procPaths(root, n));
    await Promise.all(o.names.map((n) => supervisor.stopProcess(n, false)));
    const since = performance.now();
    const deadline = Date.now() + (o.stopTimeoutMs ?? 60_000);
    const wanted = new Set(o.names);
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      const up = (await sharedProcessInfo(supervisor, since)).filter((i) => wanted.has(i.name) && UP_STATES.has(i.statename));
      if (up.length === 0) break;
      if (Date.now() >= deadline) throw new ProcError(`${up.map((i) => `proc ${i.name} is still ${i.statename}`).join(", ")} after ${o.stopTimeoutMs ?? 60_000}ms`, host.name);
      await sleep(delay);
    }
    await Promise.all(o.names.map((n) => supervisor.removeProcessGroup(n)));
    // The logs go too: the evidence of a failed start was already taken by waitRunning.
    await run(host, ["rm", "-rf", "--", ...paths.flatMap((p) => [p.supervisorConf, p.dir, p.stdoutLog, `${p.stdoutLog}.1`, `${p.stdoutLog}.2`])]);
  }

  /** The procs supervisord runs that carry a Raptor name; other programs are ignored. */
  async listProcs(supervisor: Supervisor): Promise<ListedProc[]> {
    const out: ListedProc[] = [];
    for (const info of await supervisor.getAllProcessInfo()) {
      const parsed = parseProcName(info.name);
      if (parsed && info.group === info.name) out.push({ ...parsed, statename: info.statename, pid: info.pid });
    }
    return out;
  }

  /** The log tail for an error; a proc that just died may not have had its output drained yet. */
  async failureTail(supervisor: Supervisor, name: string): Promise<string> {
    try {
      let tail = await this.tailLog(supervisor, name, LOG_TAIL_BYTES);
      if (tail === "") {
        await sleep(300);
        tail = await this.tailLog(supervisor, name, LOG_TAIL_BYTES);
      }
      return tail === "" ? "(its log is empty)" : tail;
    } catch (e) {
      return `(log unavailable: ${(e as Error).message})`;
    }
  }

  /** The last `bytes` of the proc's log (stdout and stderr). */
  async tailLog(supervisor: Supervisor, name: string, bytes: number): Promise<string> {
    const [text] = await supervisor.tailProcessStdoutLog(name, 0, bytes);
    return text;
  }
}

/** The user and group a proc's files belong to and its processes run as (its app's, proc-user.ts). */
export function procOwner(spec: Pick<ProcSpec, "user" | "group" | "app">): ProcIdentity {
  return procIdentity({ user: spec.user, group: spec.group }, spec.app);
}

const rootness = new WeakMap<Host, Promise<boolean>>();
/** Whether commands on `host` run as root (asked once per Host). */
export function reachedAsRoot(host: Host): Promise<boolean> {
  let known = rootness.get(host);
  if (!known) {
    known = host.exec(["id", "-u"], { timeoutMs: 30_000 }).then((r) => r.code === 0 && r.stdout.trim() === "0");
    rootness.set(host, known);
  }
  return known;
}

/**
 * argv that runs `argv` as the proc's user when the host is reached as root (setpriv, from
 * util-linux): uptests and release hooks are app code and run with the proc's rights, not root's.
 */
export async function asProcUser(host: Host, spec: Pick<ProcSpec, "user" | "group" | "app">, argv: readonly string[]): Promise<string[]> {
  if (!(await reachedAsRoot(host))) return [...argv];
  const o = procOwner(spec);
  return ["setpriv", "--reuid", o.user, "--regid", o.group, "--init-groups", "--", ...argv];
}

async function run(host: Host, argv: string[]): Promise<void> {
  const r = await host.exec(argv, { timeoutMs: 120_000 });
  if (r.code !== 0) {
    throw new ProcError(`${argv[0]} failed on ${host.name} (exit ${r.code}): ${r.stderr.trim().slice(-2000)}`, host.name);
  }
}

async function remoteMd5(host: Host, path: string): Promise<string | undefined> {
  const r = await host.exec(["md5sum", "--", path], { timeoutMs: 120_000 });
  return r.code === 0 ? r.stdout.split(/\s/)[0] : undefined;
}

/** undefined when the connection was accepted, else why not. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (err?: string) => {
      socket.destroy();
      resolve(err);
    };
    socket.setTimeout(timeoutMs, () => done(`timed out after ${timeoutMs}ms`));
    socket.once("connect", () => done());
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * supervisord's spawnerr inside our own parentheses, without nesting: "Exited too quickly (process
 * log may have details)" becomes "Exited too quickly; process log may have details". Pure.
 */
export function flatParens(text: string): string {
  return text.replace(/\s*\(([^()]*)\)/g, "; $1");
}
