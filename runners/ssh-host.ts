import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Client, type ClientChannel, type SFTPWrapper } from "ssh2";
import { HostUnreachableError, type ExecOptions, type ExecResult, type Host } from "./host.ts";
import { verifyHostKey, type KeyVerdict } from "./known-hosts.ts";
import { remoteCommand } from "./shell.ts";
import { runChannel } from "./ssh-channel.ts";

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
  /**
   * TCP_NODELAY on the connection. Default true; false exists only so bench/ssh-edge.ts can
   * measure what Nagle's algorithm costs in the same run.
   */
  noDelay?: boolean;
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
  /** Set once sshd refused the sftp subsystem; uploads then go through exec channels. */
  private sftpMissing = false;
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
      return await runChannel(channel, opts, started, () => this.killTagged(tag), () => this.lost());
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
    await runChannel(ch, { timeoutMs: undefined }, performance.now(), async () => {}, () => this.lost());
  }

  async upload(data: Readable | Buffer | string, path: string, mode: number = DEFAULT_UPLOAD_MODE): Promise<void> {
    const dir = posix.dirname(path);
    const mkdir = await this.exec(["mkdir", "-p", "--", dir]);
    if (mkdir.code !== 0) throw new Error(`upload to ${this.name}:${path}: mkdir failed: ${mkdir.stderr.trim()}`);
    // Same directory, so the rename is atomic: readers see the old file or the new, never a part.
    const tmp = posix.join(dir, `.${posix.basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
    const source = typeof data === "string" || Buffer.isBuffer(data) ? Readable.from([data]) : data;
    const sftp = this.sftpMissing ? undefined : await this.withSlot(() => this.openSftp()).catch((e: unknown) => {
      // An sshd without the sftp subsystem still runs commands: upload through one instead.
      if (e instanceof SftpUnavailableError) return undefined;
      throw e;
    });
    if (!sftp) return this.uploadViaExec(source, tmp, path, mode);
    try {
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

  uploadVia(): string {
    return this.sftpMissing ? "exec" : this.sftp ? "sftp" : "unknown";
  }

  /**
   * The upload for an sshd without the sftp subsystem: the bytes go to `cat` on an exec channel,
   * into a temp file that only the owner can read until it has its mode, then renamed into place.
   * The script is a constant; the paths and mode travel as its arguments (quoted by remoteCommand).
   */
  private async uploadViaExec(source: Readable, tmp: string, path: string, mode: number): Promise<void> {
    const script = 'umask 077 && cat > "$1" && chmod -- "$3" "$1" && mv -fT -- "$1" "$2"';
    const command = remoteCommand(["sh", "-c", script, "sh", tmp, path, mode.toString(8)]);
    const channel = await this.withSlot(() => this.openExec(command));
    let r: ExecResult;
    try {
      r = await runChannel(channel, {}, performance.now(), async () => {}, () => this.lost(), source);
    } catch (e) {
      if (e instanceof HostUnreachableError) throw e;
      await this.exec(["rm", "-f", "--", tmp]).catch(() => {});
      throw new Error(`upload to ${this.name}:${path} failed: ${(e as Error).message}`);
    } finally {
      this.release();
    }
    if (r.code !== 0) {
      await this.exec(["rm", "-f", "--", tmp]).catch(() => {});
      throw new Error(`upload to ${this.name}:${path} (through an exec channel: no SFTP) failed: ${r.stderr.trim() || `exit ${r.code}`}`);
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
      // sshd answers the subsystem request with a failure when sshd_config has no `Subsystem sftp`.
      if (/subsystem/i.test(plain(e))) {
        this.sftpMissing = true;
        throw new SftpUnavailableError(this.name, plain(e));
      }
      throw new HostUnreachableError(this.name, `could not open SFTP on ${this.where}: ${plain(e)}`);
    }
  }

  private lost(): HostUnreachableError {
    return new HostUnreachableError(this.name, `connection to ${this.where} was lost while a command was running`);
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
      throw new HostUnreachableError(this.name, `cannot read the SSH private key file ${keyPath} (${e.code ?? e.message})`, `set the squad's ssh.key to a private key file the workers can read`);
    });
    const known = await readFile(knownHostsPath, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new HostUnreachableError(this.name, `cannot read the known_hosts file ${knownHostsPath} (${e.code ?? e.message})`, `set the squad's ssh.known_hosts to a file the workers can read`);
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
        reject(new HostUnreachableError(this.name, ...this.reason(e, verdict, timeoutMs)));
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
        // Nagle's algorithm against the server's delayed ACKs costs ~40 ms per small request on a
        // warm connection (a no-output command took 46 ms instead of 3 ms): send small packets at once.
        client.setNoDelay(this.opts.noDelay ?? true);
      } catch (e) {
        // ssh2 throws synchronously on a key it cannot parse; say which file, never its contents.
        const why = /passphrase|encrypted/i.test(plain(e)) ? "it is encrypted" : "it cannot be parsed";
        reject(new HostUnreachableError(this.name, `cannot use the SSH private key ${keyPath}: ${why}`, `give Raptor an unencrypted private key in OpenSSH or PEM format`));
      }
    });
  }

  /** Why the connection failed and what to change, for HostUnreachableError. */
  private reason(e: Error & { level?: string; code?: string }, verdict: KeyVerdict, timeoutMs: number): [string, string?] {
    const file = this.opts.knownHostsPath;
    const { host, user, keyPath } = this.opts;
    const scan = `ssh-keyscan -p ${this.port} ${host} >> ${file}`;
    if (verdict === "unknown") return [`host key for ${this.where} is not in ${file}`, `add it (\`${scan}\`, after checking its fingerprint)`];
    if (verdict === "changed") {
      return [
        `host key for ${this.where} does not match the one in ${file} (the host was reinstalled, or someone is in the middle)`,
        `if the host was reinstalled, replace its line in ${file} (\`ssh-keygen -R '[${host}]:${this.port}' -f ${file}\`, then \`${scan}\`); if not, find out who answers there`,
      ];
    }
    if (verdict === "revoked") return [`host key for ${this.where} is marked @revoked in ${file}`, `give the host a new key and put it in ${file}`];
    if (e.level === "client-authentication") {
      return [
        `${this.where} refused the key ${keyPath} for user ${user} (is its public key in authorized_keys?)`,
        `add ${keyPath}.pub to ~${user}/.ssh/authorized_keys on ${host}`,
      ];
    }
    if (e.level === "client-timeout" || e.code === "ETIMEDOUT") return [`no answer from ${this.where} within ${timeoutMs}ms`, `check that the workers can reach ${this.where} (host up, firewall)`];
    if (e.code === "ECONNREFUSED") return [`connection refused by ${this.where} (is sshd running?)`, `start sshd on ${host}, or set the squad's ssh.port to the port it listens on`];
    if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return [`the name ${host} does not resolve`, `correct the host name in the squad, or add it to DNS`];
    if (e.code === "EHOSTUNREACH" || e.code === "ENETUNREACH") return [`no route to ${this.where}`, `check the network between the workers and ${host}`];
    if (e.code === "ECONNRESET") return [`${this.where} reset the connection`];
    return [`${this.where}: ${plain(e)}`];
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

/** sshd refused the sftp subsystem (no `Subsystem sftp` line); uploads fall back to an exec channel. */
class SftpUnavailableError extends Error {
  constructor(readonly host: string, reason: string) {
    super(`${host} has no SFTP (${reason})`);
    this.name = "SftpUnavailableError";
  }
}

function sftpCall(fn: (cb: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

/** An error's message without anything that could carry secrets beyond ssh2's own text. */
function plain(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
