/** One exec channel of an SSH connection, run to its end: output, exit status, timeout. */
import { constants } from "node:os";
import type { Readable } from "node:stream";
import type { ClientChannel } from "ssh2";
import type { ExecOptions, ExecResult } from "./host.ts";

/** Exit code reported when `timeoutMs` elapses (the convention of coreutils `timeout`), as LocalHost. */
const TIMEOUT_EXIT_CODE = 124;

/**
 * Collects an exec channel's output and exit status into an ExecResult. With `timeoutMs`, the
 * command is signalled and `kill` called when it elapses; a channel that closes without an exit
 * status (the connection dropped) rejects with `lost()`.
 */
export function runChannel(
  ch: ClientChannel,
  opts: ExecOptions,
  started: number,
  kill: () => Promise<void>,
  lost: () => Error,
  /** Streamed to the command's stdin (instead of `opts.stdin`); its error rejects and closes the channel. */
  input?: Readable,
): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let exit: { code: number | null; signal?: string } | undefined;
    let timedOut = false;
    ch.on("data", (b: Buffer) => out.push(b));
    ch.stderr.on("data", (b: Buffer) => err.push(b));
    // Not the 'exit' event: it may fire before this runs (exit-status can arrive in the same packet
    // batch as the exec reply). ssh2 passes the exit status to 'close', which waits for our reads.

    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      fn();
    };
    const result = (): ExecResult => {
      const durationMs = Math.round(performance.now() - started);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (timedOut) return { code: TIMEOUT_EXIT_CODE, stdout, stderr: `${stderr}timed out after ${opts.timeoutMs}ms\n`, durationMs };
      if (exit?.code != null) return { code: exit.code, stdout, stderr, durationMs };
      const n = constants.signals[exit?.signal as NodeJS.Signals] ?? 0; // ssh2 gives "SIGKILL"
      return { code: 128 + n, stdout, stderr, durationMs };
    };

    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            sendSignal(ch, "KILL");
            kill().catch(() => {}); // the fallback below still ends the wait
            // If the session ignores the signal, give up on it rather than wait for the command.
            setTimeout(() => {
              finish(() => resolve(result()));
              ch.close();
            }, 2_000).unref();
          }, opts.timeoutMs)
        : undefined;

    ch.on("close", (code?: number | null, signal?: string) => {
      if (code != null || signal) exit = { code: code ?? null, signal };
      if (timedOut || exit?.code != null || exit?.signal) finish(() => resolve(result()));
      else finish(() => reject(lost()));
    });
    ch.on("error", () => {}); // surfaced as a close without exit status

    if (input) {
      input.once("error", (e: Error) => {
        finish(() => reject(e));
        ch.close();
      });
      input.pipe(ch);
    } else if (opts.stdin !== undefined) ch.end(opts.stdin);
    else ch.end();
  });
}

/**
 * Sends a signal request. sshd delivers it with killpg to the session's process group: the command
 * and all it started. ssh2's `channel.signal` is a no-op once stdin is closed (which we always do,
 * so commands see EOF), though the protocol allows it, so this goes one level down.
 */
function sendSignal(ch: ClientChannel, name: string): void {
  const c = ch as unknown as {
    outgoing: { id: number; state: string };
    _client: { _protocol: { signal(id: number, name: string): void } };
  };
  if (c.outgoing.state === "open" || c.outgoing.state === "eof") c._client._protocol.signal(c.outgoing.id, name);
}
