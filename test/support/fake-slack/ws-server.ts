/**
 * The server side of a WebSocket (RFC 6455) for the fake Slack's Socket Mode: the opening
 * handshake, masked client frames, unmasked server frames, ping/pong and the close handshake.
 * Written on node's streams because the `ws` package is not installed (the @slack/socket-mode
 * client uses undici's WebSocket).
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * The server end of one WebSocket (RFC 6455): unmasked frames out, masked frames in, pings answered
 * with pongs, and the close handshake (the server echoes the peer's close frame, then ends TCP).
 * Events: "text" (string), "ping" (Buffer), "close" ({code, reason}) once the TCP connection is gone.
 */
export class WsServerSocket extends EventEmitter {
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private closeSent = false;
  /** The code of the close frame the peer sent (1005: none given), once it sent one. */
  peerCloseCode?: number;
  closed = false;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.closed = true;
      this.emit("close", { code: this.peerCloseCode ?? 1006 });
    });
  }

  sendText(text: string): void {
    this.frame(OP.text, Buffer.from(text, "utf8"));
  }

  ping(data: string): void {
    this.frame(OP.ping, Buffer.from(data, "utf8"));
  }

  /** Starts the close handshake from the server side; TCP ends when the peer answers. */
  close(code = 1000, reason = ""): void {
    if (this.closeSent || this.closed) return;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.frame(OP.close, payload);
    this.closeSent = true;
  }

  /** Drops the TCP connection without a close handshake. */
  destroy(): void {
    this.socket.destroy();
  }

  private frame(opcode: number, payload: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    const len = payload.length;
    const head = len < 126 ? Buffer.alloc(2) : len < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
    head[0] = 0x80 | opcode; // FIN, no RSV bits (no extension was negotiated)
    if (len < 126) head[1] = len;
    else if (len < 0x10000) {
      head[1] = 126;
      head.writeUInt16BE(len, 2);
    } else {
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    this.socket.write(Buffer.concat([head, payload]));
  }

  /** Feeds bytes read off the socket (the upgrade's `head` included). */
  onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0]!;
      const b1 = this.buf[1]!;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      // "The server MUST close the connection upon receiving a frame that is not masked."
      if ((b1 & 0x80) === 0 || (b0 & 0x70) !== 0) {
        this.close(1002, "protocol error");
        this.socket.end();
        return;
      }
      if (this.buf.length < off + 4 + len) return;
      const mask = this.buf.subarray(off, off + 4);
      const payload = Buffer.from(this.buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      this.buf = this.buf.subarray(off + 4 + len);
      this.onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP.ping:
        this.frame(OP.pong, payload);
        this.emit("ping", payload);
        return;
      case OP.pong:
        return;
      case OP.close: {
        this.peerCloseCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        // Echo the close (unless we started it), then the server closes TCP first (RFC 6455 §7.1.1).
        // (Real Slack reportedly leaves TCP open here; @slack/socket-mode 3.1.0 then takes ~7-15 s,
        // its pong watchdog, to drop the socket after stop(). The fake does what the RFC says.)
        if (!this.closeSent) {
          this.frame(OP.close, payload.subarray(0, 2));
          this.closeSent = true;
        }
        this.socket.end();
        return;
      }
      case OP.text:
      case OP.binary:
      case OP.continuation: {
        this.fragments.push(payload);
        if (!fin) return;
        const message = Buffer.concat(this.fragments);
        this.fragments = [];
        this.emit("text", message.toString("utf8"));
        return;
      }
      default:
        this.close(1002, "unknown opcode");
    }
  }
}

/** Accepts a WebSocket upgrade (RFC 6455 §4.2.2), or answers `status` and drops the socket. */
export function acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): WsServerSocket | undefined {
  const key = req.headers["sec-websocket-key"];
  if (req.headers.upgrade?.toLowerCase() !== "websocket" || req.headers["sec-websocket-version"] !== "13" || typeof key !== "string") {
    refuse(socket, 400, "Bad Request");
    return undefined;
  }
  const accept = createHash("sha1").update(key + WS_GUID).digest("base64");
  socket.write(["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Accept: ${accept}`, "", ""].join("\r\n"));
  const ws = new WsServerSocket(socket);
  if (head.length > 0) ws.onData(head);
  return ws;
}

export function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

// ---- Socket Mode ----
