/**
 * A raw Postgres wire client for the embedded database's server, for tests that send frames no
 * driver would (the red team's malformed messages, a message trickled a byte at a time): builds
 * frames, writes them to a unix socket, and collects what the server answers until it closes.
 */
import { connect, type Socket } from "node:net";
import { once } from "node:events";

/** A v3 StartupMessage for user and database postgres, named `app`. */
export function startupFrame(app = "raw-client"): Buffer {
  const body = Buffer.from(`user\0postgres\0database\0postgres\0application_name\0${app}\0\0`);
  const m = Buffer.alloc(8 + body.length);
  m.writeInt32BE(8 + body.length, 0);
  m.writeInt32BE(196608, 4);
  body.copy(m, 8);
  return m;
}

/** A typed frame; `length` overrides the length field (a lie, for malformed frames). */
export function typedFrame(type: string, body: Buffer, length = 4 + body.length): Buffer {
  const m = Buffer.alloc(5 + body.length);
  m.write(type, 0, "latin1");
  m.writeInt32BE(length, 1);
  body.copy(m, 5);
  return m;
}

/** A simple-protocol Query frame. */
export const queryFrame = (sql: string) => typedFrame("Q", Buffer.from(`${sql}\0`));

/** One raw connection: what it received so far, and whether the server closed it. */
export class RawClient {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;
  private readonly closedP: Promise<void>;

  constructor(path: string) {
    this.socket = connect(path);
    this.socket.on("data", (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
    this.socket.on("error", () => {});
    this.closedP = once(this.socket, "close").then(() => void (this.closed = true));
  }

  async connected(): Promise<this> {
    if (!this.socket.connecting) return this;
    await once(this.socket, "connect");
    return this;
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Waits until the server has answered `n` ReadyForQuery messages in all (or closed: throws). */
  async ready(n: number, timeoutMs = 30_000): Promise<void> {
    const t0 = Date.now();
    while (readyCount(this.received) < n) {
      if (this.closed) throw new Error(`closed before ReadyForQuery ${n}: ${this.received.toString("latin1")}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`no ReadyForQuery ${n} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Resolves when the server closed the connection, or rejects after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closedP, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`the server did not close the connection in ${timeoutMs} ms`)), timeoutMs)))]).finally(() => clearTimeout(timer));
  }

  /** The fields (by one-letter code) of each ErrorResponse received. */
  errors(): Record<string, string>[] {
    return messages(this.received)
      .filter((m) => m[0] === 0x45)
      .map((m) => {
        const f: Record<string, string> = {};
        for (const part of m.subarray(5).toString("utf8").split("\0")) if (part) f[part[0]!] = part.slice(1);
        return f;
      });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The typed messages of a server stream (no SSLRequest was answered on it). */
function messages(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 5 <= b.length; ) {
    const len = 1 + b.readInt32BE(i + 1);
    if (len < 5) break;
    out.push(b.subarray(i, i + len));
    i += len;
  }
  return out;
}

const readyCount = (b: Buffer) => messages(b).filter((m) => m[0] === 0x5a).length;
