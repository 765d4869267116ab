/**
 * Serves one PGlite database to other processes over the Postgres wire protocol (v3), on a unix
 * socket. PGlite is a single backend session; this server hands that session to one client
 * connection at a time, from the client's first message until the backend says ReadyForQuery
 * with status `I` (idle, outside a transaction). So an extended-protocol exchange
 * (Parse/Bind/Execute/Sync) or a whole transaction of one client never interleaves with another's.
 *
 * Why not @electric-sql/pglite-socket's PGLiteSocketServer: its multiplexer queues each protocol
 * message on its own and only keeps a client's messages together inside an explicit transaction,
 * so two postgres.js connections' Parse/Bind pairs can interleave on the one unnamed statement.
 * Its per-message handling (feed a message to `execProtocolRawStream` under `runExclusive`) is the
 * same as here. Clients must not use named prepared statements (postgres.js `prepare: false`):
 * every client shares the one session, and names would collide.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const PROTOCOL_V3 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TERMINATE = 0x58; // 'X'

/** Watches a backend's output stream for ReadyForQuery ('Z') and keeps its transaction status. */
export class ReadyScanner {
  private header = Buffer.alloc(0);
  private remaining = 0;
  private inReady = false;
  /** 'I' idle, 'T' in a transaction, 'E' in a failed transaction; undefined before the first. */
  status: "I" | "T" | "E" | undefined;
  /** Set when a ReadyForQuery went by since the last `reset()`. */
  seen = false;

  reset(): void {
    this.seen = false;
  }

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        if (this.inReady) {
          this.status = String.fromCharCode(chunk[i]!) as "I" | "T" | "E";
          this.seen = true;
          this.inReady = false;
        }
        i += n;
        this.remaining -= n;
        continue;
      }
      const need = 5 - this.header.length;
      const take = Math.min(need, chunk.length - i);
      this.header = Buffer.concat([this.header, chunk.subarray(i, i + take)]);
      i += take;
      if (this.header.length === 5) {
        this.inReady = this.header[0] === 0x5a; // 'Z'
        this.remaining = this.header.readInt32BE(1) - 4;
        this.header = Buffer.alloc(0);
      }
    }
  }
}

/** Splits a client's byte stream into whole protocol messages (the first one without a type byte). */
export class MessageSplitter {
  private buf = Buffer.alloc(0);
  private started = false;

  /** Returns the complete messages now available, each with whether it is a startup-phase message. */
  push(chunk: Uint8Array): { startup: boolean; message: Buffer }[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: { startup: boolean; message: Buffer }[] = [];
    for (;;) {
      if (!this.started) {
        if (this.buf.length < 8) break;
        const len = this.buf.readInt32BE(0);
        if (this.buf.length < len) break;
        const message = this.buf.subarray(0, len);
        this.buf = this.buf.subarray(len);
        out.push({ startup: true, message });
        if (message.readInt32BE(4) === PROTOCOL_V3) this.started = true;
        continue;
      }
      if (this.buf.length < 5) break;
      const len = 1 + this.buf.readInt32BE(1);
      if (this.buf.length < len) break;
      out.push({ startup: false, message: this.buf.subarray(0, len) });
      this.buf = this.buf.subarray(len);
    }
    return out;
  }
}

/** A simple-protocol Query message. */
function queryMessage(sql: string): Uint8Array {
  const body = Buffer.from(`${sql}\0`, "utf8");
  const m = Buffer.alloc(5 + body.length);
  m.write("Q", 0, "ascii");
  m.writeInt32BE(4 + body.length, 1);
  body.copy(m, 5);
  return m;
}

export interface WireServerLog {
  warn(obj: unknown, msg?: string): void;
}

/**
 * See the file comment. `listen(path)` first (it rejects with the socket error, EADDRINUSE when
 * another process serves already), then `attach(db)`: the directory is opened only once the
 * socket is ours. Connections that arrive in between wait for the database.
 */
export class PgliteWireServer {
  private server: Server;
  private sockets = new Set<Socket>();
  private closing = false;
  private db!: PGlite;
  private attached: Promise<void>;
  private onAttach!: () => void;
  /** The session lock: a FIFO chain, each holder's turn ends when it calls its release. */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly log?: WireServerLog) {
    this.server = createServer((s) => this.connection(s));
    this.attached = new Promise((r) => (this.onAttach = r));
  }

  /** The database to serve, once open. */
  attach(db: PGlite): void {
    this.db = db;
    this.onAttach();
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen(path, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
  }

  /**
   * Stops serving: waits for the session (no client is then mid-transaction), runs `whileHeld`
   * (closing PGlite) while still holding it, then drops every connection and the socket.
   */
  async close(whileHeld: () => Promise<void>): Promise<void> {
    this.closing = true;
    await this.attached;
    const release = await this.session();
    try {
      await whileHeld();
    } finally {
      for (const s of this.sockets) s.destroy();
      await new Promise<void>((r) => this.server.close(() => r()));
      release();
    }
  }

  /** Waits for the session, FIFO; resolves with the function that hands it on. */
  private session(): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = this.tail;
    this.tail = before.then(() => mine);
    return before.then(() => release);
  }

  private connection(socket: Socket): void {
    this.sockets.add(socket);
    const splitter = new MessageSplitter();
    const scanner = new ReadyScanner();
    const pending: { startup: boolean; message: Buffer }[] = [];
    let release: (() => void) | undefined;
    let pumping = false;
    let gone = false;

    const write = (d: Uint8Array) => {
      if (!gone && socket.writable) socket.write(d);
    };
    const end = async () => {
      if (gone) return;
      gone = true;
      pending.length = 0;
      this.sockets.delete(socket);
      socket.destroy();
      if (release) {
        // A client that left inside a transaction must not leave it open for the next one.
        if (scanner.status === "T" || scanner.status === "E") {
          await this.db.runExclusive(() => this.db.execProtocolRaw(queryMessage("ROLLBACK"))).catch(() => {});
        }
        release();
        release = undefined;
      }
    };
    const acquire = async () => {
      release = await this.session();
    };
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        while (pending.length > 0 && !gone) {
          if (!release) {
            if (this.closing) return void (await end());
            await this.attached;
            await acquire();
            if (gone) {
              // The client left while waiting for its turn (`end` ran before there was a release to call).
              (release as (() => void) | undefined)?.();
              release = undefined;
              return;
            }
          }
          const { startup, message } = pending.shift()!;
          if (startup) {
            const code = message.readInt32BE(4);
            if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
              write(Buffer.from("N"));
              continue;
            }
            if (code === CANCEL_REQUEST) return void (await end());
          } else if (message[0] === TERMINATE) {
            return void (await end());
          }
          scanner.reset();
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(new Uint8Array(message), {
              onRawData: (d) => {
                scanner.feed(d);
                write(d);
              },
            }),
          );
          // Hand the session on only when the backend is idle and this client has nothing queued.
          if (scanner.seen && scanner.status === "I" && pending.length === 0 && release) {
            release();
            release = undefined;
          }
        }
      } catch (err) {
        this.log?.warn({ err: (err as Error).message }, "embedded database: a client's message failed; dropping the connection");
        await end();
      } finally {
        pumping = false;
      }
    };

    socket.on("data", (chunk: Buffer) => {
      pending.push(...splitter.push(chunk));
      void pump();
    });
    socket.on("close", () => void end());
    socket.on("error", () => void end());
  }
}
