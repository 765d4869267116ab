import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { constants } from "node:os";
import { posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Client, type ClientChannel, type SFTPWrapper } from "ssh2";
import { HostUnreachableError, type ExecOptions, type ExecResult, type Host } from "./host.ts";
import { remoteCommand } from "./shell.ts";

/** Exit code reported when `timeoutMs` elapses (the convention of coreutils `timeout`), as LocalHost. */
const TIMEOUT_EXIT_CODE = 124;
const DEFAULT_UPLOAD_MODE = 0o644;
/** Environment variable tagging a command run with a timeout (see killTagged). */
const EXEC_TAG = "RAPTOR_EXEC_TAG";

export interface SshHostOptions {
  /** Host name or address; also the Host's `name`. */
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  /** Path to the private key file. Read at connect time; its contents never appear in errors or logs. */
  keyPath: string;
  /** Path to a known_hosts file. Required: an unknown or changed host key fails the connection. */
  knownHostsPath: string;
  /** Time allowed for TCP connect + handshake + auth. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Commands (channels) run at once over the one connection; sshd's MaxSessions defaults to 10. Default 8. */
  maxChannels?: number;
}

/**
 * A remote machine over SSH (ssh2). One connection, opened on first use and reused for every call;
 * if it has dropped, the next call opens a new one. Commands go through `remoteCommand`, never
 * through string interpolation.
 */
export class SshHost implements Host {
  readonly name: string;
  private readonly port: number;
  private conn?: Promise<Client>;
  private sftp?: Promise<SFTPWrapper>;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly opts: SshHostOptions) {
    this.name = opts.host;
    this.port = opts.port ?? 22;
  }

  private get where(): string {
    return `${this.opts.host}:${this.port}`;
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    // A command that may time out is tagged, so that it and everything it started can be found.
    const tag = opts.timeoutMs !== undefined ? randomBytes(8).toString("hex") : undefined;
    const env = tag ? { ...opts.env, [EXEC_TAG]: tag } : opts.env;
    const command = remoteCommand(argv, { env, cwd: opts.cwd });
    const started = performance.now();
    const channel = await this.withSlot(() => this.openExec(command));
    try {
      return await this.runChannel(channel, opts, started, () => this.killTagged(tag));
    } finally {
      this.release();
    }
  }

  /**
   * Kills every process carrying the exec tag in its environment. The SSH signal request is not
   * enough: sshd refuses it for root sessions (no post-auth privilege separation). Linux /proc.
   */
  private async killTagged(tag: string | undefined): Promise<void> {
    if (!tag) return;
    const script =
      `for e in $(grep -lzxF -- "${EXEC_TAG}=$1" /proc/[0-9]*/environ 2>/dev/null); do ` +
      `p=\${e#/proc/}; kill -KILL "\${p%/environ}" 2>/dev/null; done; true`;
    // Outside the channel limit: the slots may all be held by commands waiting for this.
    const ch = await this.openExec(remoteCommand(["sh", "-c", script, "sh", tag]));
    await this.runChannel(ch, { timeoutMs: undefined }, performance.now(), async () => {});
  }

  async upload(data: Readable | Buffer | string, path: string, mode: number = DEFAULT_UPLOAD_MODE): Promise<void> {
    const dir = posix.dirname(path);
    const mkdir = await this.exec(["mkdir", "-p", "--", dir]);
    if (mkdir.code !== 0) throw new Error(`upload to ${this.name}:${path}: mkdir failed: ${mkdir.stderr.trim()}`);
    // Same directory, so the rename is atomic: readers see the old file or the new, never a part.
    const tmp = posix.join(dir, `.${posix.basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
    const sftp = await this.withSlot(() => this.openSftp());
    try {
      const source = typeof data === "string" || Buffer.isBuffer(data) ? Readable.from([data]) : data;
      await pipeline(source, sftp.createWriteStream(tmp, { mode }));
      await sftpCall((cb) => sftp.chmod(tmp, mode, cb)); // the open mode is filtered by umask
      await sftpCall((cb) => sftp.ext_openssh_rename(tmp, path, cb)); // posix-rename: replaces atomically
    } catch (e) {
      await sftpCall((cb) => sftp.unlink(tmp, cb)).catch(() => {});
      if (e instanceof HostUnreachableError) throw e;
      throw new Error(`upload to ${this.name}:${path} failed: ${(e as Error).message}`);
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    this.sftp = undefined;
    if (!conn) return;
    const client = await conn.catch(() => undefined);
    if (!client) return;
    await new Promise<void>((resolve) => {
      client.once("close", () => resolve());
      client.end();
      setTimeout(resolve, 2_000).unref();
    });
  }

  /** Opens an exec channel; a connection that turns out dead is replaced once. */
  private async openExec(command: string): Promise<ClientChannel> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect();
      try {
        return await new Promise<ClientChannel>((resolve, reject) =>
          client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))),
        );
      } catch (e) {
        const why = plain(e);
        // The channel never opened, so the command did not run: safe to retry on a new connection.
        // Any other refusal (e.g. sshd's MaxSessions) leaves the connection and its commands alone.
        const dead = /Not connected|No response from server/i.test(why);
        if (dead) this.drop(client);
        if (!dead || attempt >= 2) {
          throw new HostUnreachableError(this.name, `could not start a command on ${this.where}: ${why}`);
        }
      }
    }
  }

  private async openSftp(): Promise<SFTPWrapper> {
    const client = await this.connect();
    this.sftp ??= new Promise<SFTPWrapper>((resolve, reject) =>
      client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))),
    );
    try {
      return await this.sftp;
    } catch (e) {
      this.sftp = undefined;
      throw new HostUnreachableError(this.name, `could not open SFTP on ${this.where}: ${plain(e)}`);
    }
  }

  private runChannel(
    ch: ClientChannel,
    opts: ExecOptions,
    started: number,
    kill: () => Promise<void>,
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
        else {
          finish(() =>
            reject(new HostUnreachableError(this.name, `connection to ${this.where} was lost while a command was running`)),
          );
        }
      });
      ch.on("error", () => {}); // surfaced as a close without exit status

      if (opts.stdin !== undefined) ch.end(opts.stdin);
      else ch.end();
    });
  }

  private connect(): Promise<Client> {
    this.conn ??= this.open().catch((e: unknown) => {
      this.conn = undefined;
      throw e;
    });
    return this.conn;
  }

  private drop(client: Client): void {
    void this.conn?.then((c) => {
      if (c === client) {
        this.conn = undefined;
        this.sftp = undefined;
      }
    });
    client.end();
  }

  private async open(): Promise<Client> {
    const { keyPath, knownHostsPath } = this.opts;
    const key = await readFile(keyPath).catch((e: NodeJS.ErrnoException) => {
      throw new HostUnreachableError(this.name, `cannot read the SSH private key file ${keyPath} (${e.code ?? e.message})`);
    });
    const known = await readFile(knownHostsPath, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new HostUnreachableError(this.name, `cannot read the known_hosts file ${knownHostsPath} (${e.code ?? e.message})`);
    });
    let verdict: KeyVerdict = "ok";
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;

    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let ready = false;
      client.on("ready", () => {
        ready = true;
        resolve(client);
      });
      client.on("error", (e: Error & { level?: string; code?: string }) => {
        if (ready) return; // a later drop shows as 'close'; the next call reconnects
        reject(new HostUnreachableError(this.name, this.reason(e, verdict, timeoutMs)));
      });
      client.on("close", () => {
        if (!ready) reject(new HostUnreachableError(this.name, `${this.where} closed the connection during the handshake`));
        this.drop(client);
      });
      try {
        client.connect({
          host: this.opts.host,
          port: this.port,
          username: this.opts.user,
          privateKey: key,
          readyTimeout: timeoutMs,
          keepaliveInterval: 15_000,
          keepaliveCountMax: 3,
          hostVerifier: (hostKey: Buffer) => {
            verdict = verifyHostKey(known, this.opts.host, this.port, hostKey);
            return verdict === "ok";
          },
        });
      } catch (e) {
        // ssh2 throws synchronously on a key it cannot parse; say which file, never its contents.
        const why = /passphrase|encrypted/i.test(plain(e)) ? "it is encrypted" : "it cannot be parsed";
        reject(new HostUnreachableError(this.name, `cannot use the SSH private key ${keyPath}: ${why}`));
      }
    });
  }

  private reason(e: Error & { level?: string; code?: string }, verdict: KeyVerdict, timeoutMs: number): string {
    const file = this.opts.knownHostsPath;
    if (verdict === "unknown") return `host key for ${this.where} is not in ${file}`;
    if (verdict === "changed") {
      return `host key for ${this.where} does not match the one in ${file} (the host was reinstalled, or someone is in the middle)`;
    }
    if (verdict === "revoked") return `host key for ${this.where} is marked @revoked in ${file}`;
    if (e.level === "client-authentication") {
      return `${this.where} refused the key ${this.opts.keyPath} for user ${this.opts.user} (is its public key in authorized_keys?)`;
    }
    if (e.level === "client-timeout" || e.code === "ETIMEDOUT") return `no answer from ${this.where} within ${timeoutMs}ms`;
    if (e.code === "ECONNREFUSED") return `connection refused by ${this.where} (is sshd running?)`;
    if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return `the name ${this.opts.host} does not resolve`;
    if (e.code === "EHOSTUNREACH" || e.code === "ENETUNREACH") return `no route to ${this.where}`;
    if (e.code === "ECONNRESET") return `${this.where} reset the connection`;
    return `${this.where}: ${plain(e)}`;
  }

  /** At most `maxChannels` channels at once on the connection; others wait their turn. */
  private async withSlot<T>(open: () => Promise<T>): Promise<T> {
    if (this.active >= (this.opts.maxChannels ?? 8)) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await open();
    } catch (e) {
      this.release();
      throw e;
    }
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}

export type KeyVerdict = "ok" | "unknown" | "changed" | "revoked";

/**
 * Checks a server's host key (the SSH wire-format blob) against known_hosts text. Host patterns are
 * `host` for port 22 and `[host]:port` otherwise, comma-separated, with `*`/`?` wildcards, `!`
 * negation and hashed `|1|salt|hash` entries. `@cert-authority` lines are ignored (no certificates).
 */
export function verifyHostKey(knownHosts: string, host: string, port: number, key: Buffer): KeyVerdict {
  const name = port === 22 ? host : `[${host}]:${port}`;
  let sawHost = false;
  for (const raw of knownHosts.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith("@") ? fields.shift() : undefined;
    const [patterns, , base64] = fields;
    if (!patterns || !base64 || marker === "@cert-authority") continue;
    if (!hostMatches(patterns, name)) continue;
    const matches = Buffer.from(base64, "base64").equals(key);
    if (marker === "@revoked") {
      if (matches) return "revoked";
      continue;
    }
    sawHost = true;
    if (matches) return "ok";
  }
  return sawHost ? "changed" : "unknown";
}

function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith("|1|")) {
    const [, , salt, hash] = patterns.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  let matched = false;
  for (const p of patterns.split(",")) {
    const negated = p.startsWith("!");
    const glob = negated ? p.slice(1) : p;
    const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
    if (re.test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
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

function sftpCall(fn: (cb: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

/** An error's message without anything that could carry secrets beyond ssh2's own text. */
function plain(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
