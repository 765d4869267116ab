import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

/** bin/raptor, as a person runs it. */
export const RAPTOR = resolve(import.meta.dirname, "../../bin/raptor");

export interface RunResult {
  code: number;
  out: string;
  err: string;
  /** Wall time from spawn to exit, ms. */
  ms: number;
}

/**
 * Runs `bin/raptor <args>` to its end with `env` on top of this process's environment; `stdin` is
 * written to its standard input (`say -` reads its command there), else stdin is closed.
 */
export function runRaptor(args: string[], env: Record<string, string>, opts: { cwd?: string; timeoutMs?: number; stdin?: string } = {}): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(RAPTOR, args, { cwd: opts.cwd, env: { ...process.env, RAPTOR_USER: "U_CLI", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.end(opts.stdin ?? "");
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      done({ code: code ?? -1, out, err, ms: Date.now() - t0 });
    });
  });
}

/** A long-running `bin/raptor <args>` (worker, all): resolves once `ready` matches its output. */
export interface Daemon {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number>;
}

/** `detached`: in a process group of its own, so `process.kill(-pid)` reaches tsx and the node it runs. */
export function startRaptor(args: string[], env: Record<string, string>, opts: { cwd?: string; detached?: boolean } = {}): Daemon {
  const child = spawn(RAPTOR, args, { cwd: opts.cwd, env: { ...process.env, RAPTOR_USER: "U_CLI", ...env }, stdio: ["pipe", "pipe", "pipe"], detached: opts.detached ?? false });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number>((r) => child.on("close", (code) => r(code ?? -1)));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
