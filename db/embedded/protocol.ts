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

/** SQLSTATE 08P01 protocol_violation: a frame the protocol does not allow. */
export const PROTOCOL_VIOLATION = "08P01";
/** SQLSTATE 0A000 feature_not_supported: what Postgres answers a protocol version it does not speak. */
export const FEATURE_NOT_SUPPORTED = "0A000";

/** Postgres' own bound on a startup-phase message (MAX_STARTUP_PACKET_LENGTH, 10,000 bytes). */
export const MAX_STARTUP_LENGTH = 10_000;
/**
 * The longest typed message taken (bytes, length field included). Postgres allows 1 GiB; Raptor's
 * longest statements are a few kilobytes, and what a client sends is buffered whole before it
 * runs, so a lower bound caps what one client can make the owner hold.
 */
export const MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;
/** Postgres' own bound on a message (1 GiB): what a server's stream is held to. */
export const PG_MAX_MESSAGE_LENGTH = 1024 * 1024 * 1024;

/**
 * The message types a frontend may send (protocol v3: Bind, Close, CopyData, CopyDone, CopyFail,
 * Describe, Execute, Flush, FunctionCall, Parse, Query, Sync, Terminate). 'p' (password and SASL
 * answers) is left out: the embedded database asks for no password, and PGlite never answers one
 * sent unasked (measured: execProtocolRaw of a 'p' message does not return).
 */
export const FRONTEND_TYPES: ReadonlySet<number> = new Set([..."BCdcfDEHFPQSX"].map((c) => c.charCodeAt(0)));

/** A frame the protocol does not allow; `code` is the SQLSTATE to answer with before closing. */
export class ProtocolViolation extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ProtocolViolation";
  }
}

/**
 * Checks the first 8 bytes of a startup-phase message (length, then request code) per the
 * protocol's "Message Formats": SSLRequest and GSSENCRequest are 8 bytes, CancelRequest 16, a
 * StartupMessage (v3.0 only) 9 to MAX_STARTUP_LENGTH bytes. Returns the message's length.
 * Throws ProtocolViolation (08P01, or 0A000 for another protocol version).
 */
export function startupLength(header: Buffer): number {
  const len = header.readInt32BE(0);
  const code = header.readInt32BE(4);
  const fixed = code === SSL_REQUEST || code === GSSENC_REQUEST ? 8 : code === CANCEL_REQUEST ? 16 : undefined;
  if (fixed !== undefined) {
    if (len !== fixed) throw new ProtocolViolation(PROTOCOL_VIOLATION, `invalid length of startup packet: ${len} bytes for a ${fixed}-byte request`);
    return len;
  }
  if (code !== PROTOCOL_V3) throw new ProtocolViolation(FEATURE_NOT_SUPPORTED, `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: the embedded database speaks 3.0`);
  if (len < 9 || len > MAX_STARTUP_LENGTH) throw new ProtocolViolation(PROTOCOL_VIOLATION, `invalid length of startup packet: ${len} bytes (9 to ${MAX_STARTUP_LENGTH})`);
  return len;
}

/**
 * Checks a typed message's first 5 bytes (type, length): the length field counts itself, so it is
 * at least 4; at most `max` (default MAX_MESSAGE_LENGTH). `types`, when given, are the types allowed. Returns the
 * whole message's length (type byte included). Throws ProtocolViolation (08P01).
 */
export function typedLength(header: Buffer, types?: ReadonlySet<number>, max = MAX_MESSAGE_LENGTH): number {
  const type = header[0]!;
  if (types && !types.has(type)) throw new ProtocolViolation(PROTOCOL_VIOLATION, `invalid frontend message type ${type}`);
  const len = header.readInt32BE(1);
  if (len < 4 || len > max) throw new ProtocolViolation(PROTOCOL_VIOLATION, `invalid message length ${len} (4 to ${max}) in a "${String.fromCharCode(type)}" message`);
  return 1 + len;
}

/**
 * Splits a byte stream into whole protocol messages. A client's stream (`startup: true`, the
 * default) opens with untyped startup-phase messages (SSLRequest, StartupMessage); a server's
 * stream is typed from its first byte. Every frame's length is checked as soon as its header is
 * in (startupLength, typedLength; `types` restricts typed messages' types, `maxLength` bounds
 * them, default MAX_MESSAGE_LENGTH): the first bad one
 * sets `violation`, and nothing more is split from that stream. So a stream can never make the
 * splitter loop, read past a message, or buffer more than one message's bound.
 */
export class MessageSplitter {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Length of the message whose header has been checked, until it is complete. */
  private need: number | undefined;
  private started: boolean;
  private readonly types: ReadonlySet<number> | undefined;
  private readonly maxLength: number;
  /** The first frame the protocol does not allow; set once, then push returns nothing. */
  violation: ProtocolViolation | undefined;

  constructor(opts: { startup?: boolean; types?: ReadonlySet<number>; maxLength?: number } = {}) {
    this.started = opts.startup === false;
    this.types = opts.types;
    this.maxLength = opts.maxLength ?? MAX_MESSAGE_LENGTH;
  }

  /** Returns the complete messages now available, each with whether it is a startup-phase message. */
  push(chunk: Uint8Array): { startup: boolean; message: Buffer }[] {
    const out: { startup: boolean; message: Buffer }[] = [];
    if (this.violation) return out;
    if (chunk.length > 0) {
      // A copy: a writer (postgres.js) may reuse the buffer it handed over.
      this.chunks.push(Buffer.from(chunk));
      this.size += chunk.length;
    }
    for (;;) {
      const startup = !this.started;
      if (this.need === undefined) {
        const headerLength = startup ? 8 : 5;
        if (this.size < headerLength) break;
        try {
          this.need = startup ? startupLength(this.front(headerLength)) : typedLength(this.front(headerLength), this.types, this.maxLength);
        } catch (err) {
          if (!(err instanceof ProtocolViolation)) throw err;
          this.violation = err;
          this.chunks = [];
          this.size = 0;
          break;
        }
      }
      if (this.size < this.need) break;
      const message = this.take(this.need);
      this.need = undefined;
      out.push({ startup, message });
      if (startup && message.readInt32BE(4) === PROTOCOL_V3) this.started = true;
    }
    return out;
  }

  /** The bytes of a message not yet complete. */
  partial(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The first `n` buffered bytes (n <= size), joining only the chunks they span. */
  private front(n: number): Buffer {
    let i = 0;
    for (let got = 0; got < n; i++) got += this.chunks[i]!.length;
    if (i > 1) this.chunks.splice(0, i, Buffer.concat(this.chunks.slice(0, i)));
    return this.chunks[0]!.subarray(0, n);
  }

  /** Removes and returns the first `n` buffered bytes (n <= size). */
  private take(n: number): Buffer {
    const head = this.front(n);
    const rest = this.chunks[0]!.subarray(n);
    if (rest.length > 0) this.chunks[0] = rest;
    else this.chunks.shift();
    this.size -= n;
    return head;
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
