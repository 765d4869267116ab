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
import {
  ADMIN_SHUTDOWN,
  CANCEL_REQUEST,
  FRONTEND_TYPES,
  GSSENC_REQUEST,
  HANDOVER_MESSAGE,
  IDLE_IN_TRANSACTION_TIMEOUT,
  MessageSplitter,
  ReadyScanner,
  SSL_REQUEST,
  errorResponse,
  queryMessage,
  startupParameters,
  syncMessage,
} from "./protocol.ts";
import type { Logger } from "../../lib/logger.ts";

export { MessageSplitter, ReadyScanner } from "./protocol.ts";

const TERMINATE = 0x58; // 'X'

/** A statement that ran this long (ms) may have outlived its client: the socket is read before the client's next message runs. */
const YIELD_AFTER_MS = 20;

/**
 * Resolves after the event loop has polled its sockets once (a close that came in meanwhile has
 * then been seen): the first immediate runs in this turn's check phase, before any poll; the
 * second in the next turn's, after its poll.
 */
const pollSockets = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));

/** How long a client may hold the session without sending a whole message before it is dropped (ms). */
export const DEFAULT_IDLE_IN_TRANSACTION_MS = 30_000;

export interface WireServerOptions {
  /**
   * A client holding the session (inside a transaction, or between the messages of one
   * extended-protocol exchange) that sends no complete message for this long is dropped: its
   * transaction is rolled back and the other processes go on. Counted from the last whole message
   * run, so bytes trickled one at a time do not keep it alive. Milliseconds; default 30 s, far
   * above any of Raptor's transactions, which hold no I/O but the database's. Postgres calls this
   * `idle_in_transaction_session_timeout`.
   *
   * There is no statement timeout: PGlite runs a statement synchronously on this process's
   * thread and ignores `statement_timeout` (no signal reaches it), so nothing here can stop a
   * runaway statement; a client that dies during one is let go (rolled back) when it ends.
   */
  idleInTransactionMs?: number;
}

/** One client connection as the server sees it. */
interface Conn {
  /** Ends the connection with a FATAL ErrorResponse first; runs nothing more of it. */
  drop(code: string, message: string): Promise<void>;
}

/**
 * See the file comment. `listen(path)` first (it rejects with the socket error, EADDRINUSE when
 * another process serves already), then `attach(db)`: the directory is opened only once the
 * socket is ours. Connections that arrive in between wait for the database.
 */
export class PgliteWireServer {
  private server: Server;
  private conns = new Map<Socket, Conn>();
  private closing = false;
  private db!: PGlite;
  private attached: Promise<void>;
  private onAttach!: () => void;
  /** The session lock: a FIFO chain, each holder's turn ends when it calls its release. */
  private tail: Promise<void> = Promise.resolve();
  private readonly idleInTransactionMs: number;

  constructor(
    private readonly log?: Pick<Logger, "warn">,
    opts: WireServerOptions = {},
  ) {
    this.idleInTransactionMs = opts.idleInTransactionMs ?? DEFAULT_IDLE_IN_TRANSACTION_MS;
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
   * Stops serving: waits for the session (no client is then inside an exchange or a
   * transaction), runs `whileHeld` (closing PGlite) while still holding it, then says goodbye to
   * every client with the handover message (57P01) and lets the socket go. What a client sent
   * that was not answered by then was not run: its handover socket sends it to the next owner.
   * PGlite is closed before the socket is released, so the next owner never opens the directory
   * while this one still has it open.
   */
  async close(whileHeld: () => Promise<void>): Promise<void> {
    this.closing = true;
    await this.attached;
    const release = await this.session();
    try {
      await whileHeld();
    } finally {
      const closed = new Promise<void>((r) => this.server.close(() => r()));
      await Promise.all([...this.conns.values()].map((c) => c.drop(ADMIN_SHUTDOWN, HANDOVER_MESSAGE)));
      await closed;
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
    const splitter = new MessageSplitter({ types: FRONTEND_TYPES });
    const scanner = new ReadyScanner();
    const pending: { startup: boolean; message: Buffer }[] = [];
    let release: (() => void) | undefined;
    let pumping = false;
    let gone = false;
    let idle: NodeJS.Timeout | undefined;
    let who = "a client";
    /** Nothing of a connection may throw out of the server (an uncaught error ends the owner, and with it `raptor all`). */
    const safely = (p: Promise<unknown>) =>
      void p.catch((err: unknown) => this.log?.warn({ client: who, err: (err as Error).message }, "embedded database: a client's connection failed; dropping it"));

    const write = (d: Uint8Array) => {
      if (!gone && socket.writable) socket.write(d);
    };
    /** Gives the session back, first closing what this client left open in it. Only called once the connection is gone. */
    const handBack = async () => {
      const r = release;
      if (!r) return;
      try {
        // A client that left inside an exchange or a transaction must not leave it to the next one:
        // Sync ends the exchange, ROLLBACK the transaction (its ReadyForQuery said 'T' or 'E'). These
        // queue behind a message of this client PGlite is still running, so they see its end.
        if (!scanner.seen || scanner.status !== "I") {
          const s = new ReadyScanner();
          await this.db.runExclusive(async () => s.feed(await this.db.execProtocolRaw(syncMessage()))).catch(() => {});
          if (s.status === "T" || s.status === "E") await this.db.runExclusive(() => this.db.execProtocolRaw(queryMessage("ROLLBACK"))).catch(() => {});
        }
      } finally {
        release = undefined;
        r();
      }
    };
    /** The connection is over: nothing more of it runs; the session goes to the next client. */
    const end = async (last?: Buffer) => {
      if (gone) return;
      if (last && socket.writable) socket.write(last);
      gone = true;
      clearTimeout(idle);
      pending.length = 0;
      this.conns.delete(socket);
      // end() flushes what was written (the answers, then the goodbye) before closing; destroy
      // only a peer that does not close its side.
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
      await handBack();
    };
    const conn: Conn = { drop: (code, message) => end(errorResponse("FATAL", code, message)) };
    this.conns.set(socket, conn);

    const idleTimeout = () => {
      this.log?.warn(
        { client: who, idleMs: this.idleInTransactionMs, status: scanner.status },
        `embedded database: dropped ${who}, which held the database idle in a transaction for ${Math.round(this.idleInTransactionMs / 1000)}s; its transaction was rolled back so the other processes can go on`,
      );
      safely(end(errorResponse("FATAL", IDLE_IN_TRANSACTION_TIMEOUT, "terminating connection due to idle-in-transaction timeout")));
    };
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        while (pending.length > 0 && !gone) {
          const { startup, message } = pending[0]!;
          if (startup) {
            // Answered without the session: a client that only opens a connection holds nothing.
            const code = message.readInt32BE(4);
            if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
              pending.shift();
              write(Buffer.from("N"));
              continue;
            }
            if (code === CANCEL_REQUEST) return void (await end());
          } else if (message[0] === TERMINATE) {
            return void (await end());
          }
          if (!release) {
            if (this.closing) return void (await conn.drop(ADMIN_SHUTDOWN, HANDOVER_MESSAGE));
            await this.attached;
            const r = await this.session();
            if (gone) {
              // The client left (or was said goodbye to) while waiting for its turn.
              r();
              return;
            }
            release = r;
          }
          pending.shift();
          if (startup) {
            const p = startupParameters(message);
            if (p.application_name) who = `client "${p.application_name}"`;
          }
          scanner.reset();
          const started = performance.now();
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(new Uint8Array(message), {
              onRawData: (d) => {
                scanner.feed(d);
                write(d);
              },
            }),
          );
          // A statement blocks this whole process (PGlite runs it on this thread), so a client
          // that died meanwhile is noticed only once the event loop reads its socket again: after a
          // long one, let it, before running what the dead client had queued (that could commit
          // its transaction). Not after every message: an exchange is five, and each turn of the
          // loop is latency for every process.
          if (pending.length > 0 && performance.now() - started >= YIELD_AFTER_MS) await pollSockets();
          // Gone meanwhile: handBack, already waiting behind that statement, rolls back and hands
          // the session on.
          if (gone) return;
          // Hand the session on only when the backend is idle and this client has nothing queued.
          if (scanner.seen && scanner.status === "I" && pending.length === 0 && release) {
            release();
            release = undefined;
          }
        }
        // Still holding the session with nothing to run: the client is inside a transaction or an
        // exchange. It has this long from its last complete message to send the next one.
        if (release && !gone && pending.length === 0) {
          clearTimeout(idle);
          idle = setTimeout(idleTimeout, this.idleInTransactionMs);
        }
      } catch (err) {
        this.log?.warn({ client: who, err: (err as Error).message }, "embedded database: a client's message failed; dropping the connection");
        await end();
      } finally {
        pumping = false;
      }
    };

    socket.on("data", (chunk: Buffer) => {
      if (gone) return;
      const messages = splitter.push(chunk);
      // Only a whole message stops the idle clock: a byte at a time must not hold the session.
      if (messages.length > 0) {
        clearTimeout(idle);
        pending.push(...messages);
      }
      const bad = splitter.violation;
      if (bad) {
        this.log?.warn({ client: who, code: bad.code, err: bad.message }, `embedded database: dropped ${who}, which broke the wire protocol (${bad.message}); the other processes go on`);
        // What the client sent before the bad frame is not run: its connection is unusable.
        return safely(end(errorResponse("FATAL", bad.code, bad.message)));
      }
      if (messages.length > 0) safely(pump());
    });
    // The peer closed its side: it reads no answer, so nothing more of it runs.
    socket.on("end", () => safely(end()));
    socket.on("close", () => safely(end()));
    socket.on("error", () => safely(end()));
  }
}
