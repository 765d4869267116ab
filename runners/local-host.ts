import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, mkdir, rename, rm, stat } from "node:fs/promises";
import { constants } from "node:os";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ExecOptions, ExecResult, Host } from "./host.ts";

/** Exit code reported when `timeoutMs` elapses (the convention of coreutils `timeout`). */
export const TIMEOUT_EXIT_CODE = 124;
/** Exit code reported when the command does not exist (what `sh` reports). */
export const NOT_FOUND_EXIT_CODE = 127;
/** Default file mode for uploads when none is given. */
export const DEFAULT_UPLOAD_MODE = 0o644;

/**
 * The variables a command inherits from Raptor's own environment: what a login would give it,
 * nothing more. Raptor's environment holds its secrets (SLACK_BOT_TOKEN, DATABASE_URL...), and
 * the commands run here include app code (uptests, release hooks).
 */
export const BASE_ENV_KEYS = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME", "SHELL"] as const;

/** The base environment (BASE_ENV_KEYS that are set in `from`) with `extra` over it. Pure. */
export function commandEnv(from: NodeJS.ProcessEnv, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of BASE_ENV_KEYS) {
    const v = from[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * This machine, without SSH. Commands are spawned from an argv array (never through a shell), in
 * their own process group so a timeout kills the command and everything it started.
 */
export class LocalHost implements Host {
  constructor(readonly name: string = "localhost") {}

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const [command, ...args] = argv;
    if (command === undefined) throw new Error("exec: empty argv");
    const started = performance.now();
    const result = (code: number, stdout: string, stderr: string): ExecResult => ({
      code,
      stdout,
      stderr,
      durationMs: Math.round(performance.now() - started),
    });

    // Same outcome as the SSH side's `cd '<cwd>' && ...`, instead of spawn's misleading ENOENT.
    if (opts.cwd !== undefined && !(await isDirectory(opts.cwd))) {
      return result(2, "", `cd: ${opts.cwd}: No such file or directory\n`);
    }

    return new Promise<ExecResult>((resolve) => {
      const child = spawn(command, args, {
        cwd: opts.cwd,
        env: commandEnv(process.env, opts.env),
        stdio: ["pipe", "pipe", "pipe"],
        detached: true, // own process group, so the timeout can kill it as a whole
        shell: false,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      // A command that exits without reading its stdin closes the pipe; that is not our error.
      child.stdin.on("error", () => {});

      let timedOut = false;
      const timer =
        opts.timeoutMs !== undefined
          ? setTimeout(() => {
              timedOut = true;
              killGroup(child.pid);
            }, opts.timeoutMs)
          : undefined;

      let settled = false;
      const finish = (r: ExecResult) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        resolve(r);
      };

      child.on("error", (e: NodeJS.ErrnoException) => {
        const code = e.code === "ENOENT" || e.code === "EACCES" ? NOT_FOUND_EXIT_CODE : 1;
        finish(result(code, "", `${command}: ${e.message}\n`));
      });
      child.on("close", (code, signal) => {
        const stdout = Buffer.concat(out).toString("utf8");
        let stderr = Buffer.concat(err).toString("utf8");
        if (timedOut) {
          stderr += `timed out after ${opts.timeoutMs}ms\n`;
          finish(result(TIMEOUT_EXIT_CODE, stdout, stderr));
        } else {
          // Killed by a signal: report it the way a shell would (128 + signal number).
          finish(result(code ?? 128 + signalNumber(signal), stdout, stderr));
        }
      });

      if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
      else child.stdin.end();
    });
  }

  async upload(data: Readable | Buffer | string, path: string, mode: number = DEFAULT_UPLOAD_MODE): Promise<void> {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    // Same directory, so the rename is atomic: readers see the old file or the new, never a part.
    const tmp = join(dir, `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
    try {
      const source = typeof data === "string" || Buffer.isBuffer(data) ? Readable.from([data]) : data;
      await pipeline(source, createWriteStream(tmp, { mode }));
      await chmod(tmp, mode); // the open mode is filtered by umask; the caller asked for this one
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  uploadVia(): string {
    return "local";
  }

  async close(): Promise<void> {}
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
