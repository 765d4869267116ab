/**
 * The few pieces of the Postgres wire protocol (v3, "Frontend/Backend Protocol" chapter of the
 * PostgreSQL manual) that the embedded database's server (wire-server.ts) and its clients'
 * handover socket (handover-socket.ts) need: splitting a byte stream into messages, following
 * ReadyForQuery, and building a Query or an ErrorResponse.
 */

export const PROTOCOL_V3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** SQLSTATE 57P01 admin_shutdown: what Postgres sends a session it terminates on shutdown. */
export const ADMIN_SHUTDOWN = "57P01";
/** SQLSTATE 25P03 idle_in_transaction_session_timeout, as Postgres sends it. */
export const IDLE_IN_TRANSACTION_TIMEOUT = "25P03";

/**
 * The message of the goodbye the embedded database's owner sends each client when it hands the
 * database over. It promises that nothing the client sent without an answer was run, so the
 * client may send it again to the next owner. Only the wire server sends it with 57P01.
 */
export const HANDOVER_MESSAGE = "the embedded database's owner is handing it over; nothing unanswered on this connection ran";

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

/**
 * Splits a byte stream into whole protocol messages. A client's stream (`startup: true`, the
 * default) opens with untyped startup-phase messages (SSLRequest, StartupMessage); a server's
 * stream is typed from its first byte.
 */
export class MessageSplitter {
  private buf = Buffer.alloc(0);
  private started: boolean;

  constructor(opts: { startup?: boolean } = {}) {
    this.started = opts.startup === false;
  }

  /** Returns the complete messages now available, each with whether it is a startup-phase message. */
  push(chunk: Uint8Array): { startup: boolean; message: Buffer }[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
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

  /** The bytes of a message not yet complete. */
  partial(): Buffer {
    return this.buf;
  }
}

/** A typed message: one type byte, a length, the body. */
function typed(type: string, body: Buffer): Buffer {
  const m = Buffer.alloc(5 + body.length);
  m.write(type, 0, "ascii");
  m.writeInt32BE(4 + body.length, 1);
  body.copy(m, 5);
  return m;
}

/** A simple-protocol Query message. */
export function queryMessage(sql: string): Buffer {
  return typed("Q", Buffer.from(`${sql}\0`, "utf8"));
}

/** A Sync message: ends an extended-protocol exchange, the backend answers ReadyForQuery. */
export function syncMessage(): Buffer {
  return typed("S", Buffer.alloc(0));
}

/** An ErrorResponse ('E') with severity, SQLSTATE and message fields. */
export function errorResponse(severity: "ERROR" | "FATAL", code: string, message: string): Buffer {
  const field = (t: string, v: string) => Buffer.from(`${t}${v}\0`, "utf8");
  return typed("E", Buffer.concat([field("S", severity), field("V", severity), field("C", code), field("M", message), Buffer.from([0])]));
}

/** The fields of an ErrorResponse or NoticeResponse, by their one-letter codes. */
export function errorFields(message: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let i = 5;
  while (i < message.length && message[i] !== 0) {
    const end = message.indexOf(0, i + 1);
    if (end < 0) break;
    fields[String.fromCharCode(message[i]!)] = message.subarray(i + 1, end).toString("utf8");
    i = end + 1;
  }
  return fields;
}

/** Whether a server message is the owner's handover goodbye (see HANDOVER_MESSAGE). */
export function isHandoverGoodbye(message: Buffer): boolean {
  if (message[0] !== 0x45) return false; // 'E'
  const f = errorFields(message);
  return f.C === ADMIN_SHUTDOWN && f.M === HANDOVER_MESSAGE;
}

/** The parameters of a StartupMessage (user, database, application_name, ...). */
export function startupParameters(message: Buffer): Record<string, string> {
  const parts = message.subarray(8).toString("utf8").split("\0");
  const params: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) params[parts[i]!] = parts[i + 1]!;
  return params;
}
