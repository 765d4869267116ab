import { spawn, type ChildProcess } from "node:child_process";
import { BuildError } from "./build-error.ts";

/**
 * Runs external commands for builds: always an argv array, never a shell, with a timeout that
 * kills the whole process group (buildpacks spawn children).
 */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill after this long. Default 5 minutes. */
  timeoutMs?: number;
  /** Start the command as this uid/gid (Raptor must be root); supplementary groups are dropped. */
  uid?: number;
  gid?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** Environment for git: never prompt for credentials, only well-known transports (no `ext::`). */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_ALLOW_PROTOCOL: "file:git:http:https:ssh",
    LC_ALL: "C",
  };
}

/** Kills a detached child's process group, falling back to the child alone. */
export function killTree(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Runs argv to completion; resolves whatever the exit code (the caller decides). */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error("run: empty argv");
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      uid: opts.uid,
      gid: opts.gid,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child);
    }, opts.timeoutMs ?? 5 * 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut });
    });
  });
}

/** Describes a failed command with its evidence: argv, exit, duration, stderr tail. */
export function describeFailure(argv: readonly string[], r: RunResult): string {
  const how = r.timedOut ? "timed out" : r.code !== null ? `exited with ${r.code}` : `was killed by ${r.signal}`;
  const tail = r.stderr.trim().split("\n").slice(-10).join("\n");
  return `\`${argv.join(" ")}\` ${how} after ${r.durationMs} ms${tail ? `:\n${tail}` : ""}`;
}

/** Runs argv and returns its stdout; a non-zero exit is a retryable `internal` BuildError. */
export async function runOk(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new BuildError("internal", describeFailure(argv, r), { retryable: true, output: r.stderr.slice(-4000) });
  }
  return r.stdout;
}
