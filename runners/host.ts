import type { ErrorCode } from "../lib/error-codes.ts";
import type { Readable } from "node:stream";

/** What a remote (or local) command produced. A non-zero exit is a result, not a thrown error. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ExecOptions {
  /** Extra environment for the command (passed as `env K=V ... argv`, quoted by shellJoin). */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Bytes fed to the command's stdin. */
  stdin?: string | Buffer;
}

/**
 * One machine Raptor works on. Implementations: SshHost (ssh2, one pooled connection per host)
 * and LocalHost (this machine, no SSH). Call sites never branch on which one they hold.
 * `exec` takes an argv array; the only place it becomes a string is shellJoin at the SSH edge.
 */
export interface Host {
  readonly name: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Writes the stream to `path` (parent directories created), atomically (temp file + rename). */
  upload(data: Readable | Buffer | string, path: string, mode?: number): Promise<void>;
  close(): Promise<void>;
  /**
   * How uploads reach the host, once one was made: "sftp", "exec" (an SSH exec channel, for an sshd
   * without the sftp subsystem), "local"; "unknown" before the first upload. For `hosts check`.
   */
  uploadVia?(): string;
}

/**
 * Raised when a host cannot be reached or refuses us; `host` names it for the channel, `reason`
 * says what happened and `fix` (when known) what to change, in one line; the message has all three.
 */
export class HostUnreachableError extends Error {
  readonly code = "host_unreachable" satisfies ErrorCode;
  constructor(
    readonly host: string,
    readonly reason: string,
    readonly fix?: string,
  ) {
    super(`cannot reach host ${host}: ${reason}${fix ? `. Fix: ${fix}` : ""}`);
    this.name = "HostUnreachableError";
  }
}
