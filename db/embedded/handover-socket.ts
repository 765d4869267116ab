/**
 * The socket postgres.js gets for the embedded database (its `socket` option): a connection to
 * whichever process owns the database now, that survives the owner handing it over.
 *
 * Why: ownership moves (owner.ts). When the owner leaves, a query another process had just sent
 * would die with the connection ("CONNECTION_CLOSED", ECONNRESET), and one sent before the next
 * owner listens would find nobody (ECONNREFUSED). That is the race two `raptor say`s started
 * together lost.
 *
 * How, and why it is safe: the owner ends every connection with a goodbye (57P01 with
 * HANDOVER_MESSAGE) only after it ran and answered everything it took from it, and it takes
 * nothing more (wire-server.ts `close`). So after a goodbye, every exchange this socket sent that
 * has not been answered (a Query, or Parse..Sync: one ReadyForQuery each) never ran; it is sent
 * again, unchanged, to the next owner, after the startup message (whose answers postgres.js saw
 * once and does not see again). A connection that closes WITHOUT a goodbye (the owner was killed)
 * is passed on as closed: an unanswered write may have committed, so it is never sent again.
 */
import { Duplex } from "node:stream";
import { connect, type Socket } from "node:net";
import { MessageSplitter, PG_MAX_MESSAGE_LENGTH, isHandoverGoodbye } from "./protocol.ts";

/** How long a connection waits for an owner to answer on the socket (ms). Opening PGlite on a loaded machine takes tens of seconds. */
export const DEFAULT_OWNER_WAIT_MS = 120_000;

export interface HandoverSocketOptions {
  /** The owner's socket path (abstract on Linux). */
  path: string;
  /** Milliseconds to keep trying to reach an owner before failing; default DEFAULT_OWNER_WAIT_MS. */
  waitMs?: number;
  /** Called each time an exchange is sent again to a new owner (counts, for logs and tests). */
  onReplay?: (exchanges: number) => void;
}

const TERMINATE = 0x58; // 'X'
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const READY = 0x5a; // 'Z'

/** See the file comment. Behaves as the net.Socket postgres.js expects (write/end/destroy, data/close/error/drain). */
export class HandoverSocket extends Duplex {
  private sock: Socket | undefined;
  private readonly path: string;
  private readonly waitMs: number;
  private readonly onReplay?: (n: number) => void;
  private readonly fromClient = new MessageSplitter();
  private fromServer = new MessageSplitter({ startup: false, maxLength: PG_MAX_MESSAGE_LENGTH });
  /** The client's StartupMessage, sent first on every connection. */
  private startup: Buffer | undefined;
  /** Exchanges sent and not yet answered by a ReadyForQuery, oldest first, each its messages. */
  private unanswered: Buffer[][] = [];
  /** Messages of the exchange being written (no Sync yet). */
  private current: Buffer[] = [];
  /** postgres.js has had the startup's answers (so a new owner's are not passed on again). */
  private started = false;
  /** This connection's startup has been answered (its ReadyForQuery seen). */
  private connReady = false;
  private goodbye = false;
  private finished = false;

  constructor(opts: HandoverSocketOptions) {
    super({ allowHalfOpen: false });
    this.path = opts.path;
    this.waitMs = opts.waitMs ?? DEFAULT_OWNER_WAIT_MS;
    this.onReplay = opts.onReplay;
    this.dial(Date.now());
  }

  /** What postgres.js reads to decide whether to send Terminate on end. */
  get readyState(): "open" | "closed" {
    return this.destroyed || this.finished ? "closed" : "open";
  }

  /** Connects to the owner, retrying while nobody listens (a handover in progress), until the deadline. */
  private dial(since: number): void {
    if (this.destroyed) return;
    const s = connect(this.path);
    s.once("connect", () => {
      s.removeAllListeners("error");
      this.attach(s);
    });
    s.once("error", (err: NodeJS.ErrnoException) => {
      s.destroy();
      if (this.destroyed) return;
      if ((err.code === "ECONNREFUSED" || err.code === "ENOENT") && Date.now() - since < this.waitMs) {
        setTimeout(() => this.dial(since), 50).unref();
        return;
      }
      this.destroy(Object.assign(new Error(`no process serves the embedded database on its socket: ${err.message}`), { code: err.code }));
    });
  }

  private attach(s: Socket): void {
    if (this.destroyed) return void s.destroy();
    this.sock = s;
    this.connReady = false;
    this.goodbye = false;
    this.fromServer = new MessageSplitter({ startup: false, maxLength: PG_MAX_MESSAGE_LENGTH });
    s.on("data", (chunk: Buffer) => this.fromOwner(chunk));
    s.on("error", (err) => {
      if (!this.goodbye) this.lastError = err;
    });
    s.on("close", () => this.ownerGone(s));
    s.on("drain", () => this.emit("drain"));
    // Everything not answered, in order: the startup, the unanswered exchanges, the one being
    // written, and the bytes of a message not yet complete.
    const replay = this.unanswered.length;
    const out = [...(this.startup ? [this.startup] : []), ...this.unanswered.flat(), ...this.current, this.fromClient.partial()];
    if (this.started && replay > 0) this.onReplay?.(replay);
    const bytes = Buffer.concat(out);
    if (bytes.length) s.write(bytes);
    if (this.finished) s.end();
  }

  private lastError: Error | undefined;

  private ownerGone(s: Socket): void {
    if (this.sock !== s) return;
    this.sock = undefined;
    if (this.destroyed || this.finished) return void this.destroy();
    if (this.goodbye) return this.dial(Date.now());
    // No goodbye: the owner died. What was unanswered may have run; let postgres.js say so.
    this.destroy(this.unanswered.length || this.current.length ? this.lastError : undefined);
  }

  private fromOwner(chunk: Buffer): void {
    for (const { message } of this.fromServer.push(chunk)) {
      if (isHandoverGoodbye(message)) {
        this.goodbye = true;
        continue;
      }
      if (this.goodbye) continue;
      if (!this.connReady) {
        // The startup's answers (AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery):
        // postgres.js sees the first connection's only.
        if (message[0] === READY) this.connReady = true;
        if (!this.started) {
          if (message[0] === READY) this.started = true;
          this.push(message);
        } else if (message[0] === 0x45) {
          this.destroy(new Error("the embedded database's new owner refused the connection"));
          return;
        }
        continue;
      }
      if (message[0] === READY) this.unanswered.shift();
      this.push(message);
    }
    // A stream no Postgres would send: nothing more of it can be read.
    if (this.fromServer.violation) this.destroy(new Error(`the embedded database's owner broke the wire protocol: ${this.fromServer.violation.message}`));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (const { startup, message } of this.fromClient.push(chunk)) {
      if (startup) {
        this.startup ??= message;
        continue;
      }
      if (message[0] === TERMINATE) continue;
      this.current.push(message);
      if (message[0] === SYNC || message[0] === QUERY) {
        this.unanswered.push(this.current);
        this.current = [];
      }
    }
    // Kept above until answered; written now if an owner is there, else when one is.
    if (this.sock && !this.goodbye) this.sock.write(chunk, () => done());
    else done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.finished = true;
    this.sock?.end();
    done();
  }

  override _read(): void {}

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.finished = true;
    this.sock?.destroy();
    this.sock = undefined;
    done(err);
  }
}
