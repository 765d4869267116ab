/**
 * Socket Mode, Slack's side of it, on the fake's own HTTP server (the `upgrade` event):
 *  - `apps.connections.open` (app-level token in the Authorization header) hands out a one-use
 *    `ws://127.0.0.1:<port>/link/?ticket=...&app_id=...` URL (Slack: `wss://wss-....slack.com/link/?ticket=...`);
 *  - on connect Slack sends `{type:"hello", num_connections, debug_info, connection_info:{app_id}}`;
 *  - payloads arrive as envelopes `{envelope_id, type: "events_api"|"slash_commands"|"interactive",
 *    payload, accepts_response_payload}` (+ `retry_attempt`, `retry_reason` for events_api), and the
 *    app acks each with `{envelope_id, payload?}` on the same socket;
 *  - `{type:"disconnect", reason, debug_info:{host}}` asks the app to reconnect ("warning",
 *    "refresh_requested", "link_disabled").
 * Source: docs.slack.dev/apis/events-api/using-socket-mode and the envelopes in python-slack-sdk's
 * mock Socket Mode server. The WebSocket itself (RFC 6455: handshake, masked client frames, ping/pong,
 * close handshake) is implemented here on node:net: the `ws` package is not installed (the
 * @slack/socket-mode client uses undici's WebSocket).
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { acceptUpgrade, refuse, WsServerSocket } from "./ws-server.ts";
import { blockActionsPayload, eventCallbackBody, slashCommandFields, type BlockAction, type SlashCommand } from "./payloads.ts";
import type { SenderContext } from "./sender.ts";

export type EnvelopeType = "events_api" | "slash_commands" | "interactive";

export interface Envelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

/** What the app sent back for an envelope: `{envelope_id, payload?}`. */
export interface SocketModeAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
  /** Which connection it came on (index in `connections`). */
  connection: number;
  at: number;
}

export interface SocketModeConnection {
  /** Index in `connections`. */
  index: number;
  ticket: string;
  ws: WsServerSocket;
  openedAt: number;
  /** Set when the TCP connection is gone; `closeCode` is the app's close frame code (1006: none). */
  closedAt?: number;
  closeCode?: number;
  /** Text messages from the app that were not acks (should stay empty). */
  other: string[];
  /** Pings from the app (the client's heartbeat), each answered with a pong. */
  pings: number;
}

export interface EnvelopeOptions {
  envelopeId?: string;
  /** events_api only: 0 for a first delivery. */
  retryAttempt?: number;
  /** events_api only: "" for a first delivery; Slack's HTTP reasons are e.g. "http_timeout". */
  retryReason?: string;
  /** Default: true for slash_commands and interactive, false for events_api (as in Slack's examples). */
  acceptsResponsePayload?: boolean;
  /** The connection to send on (index); default the newest open one. */
  connection?: number;
}

/** One envelope sent; `acked()` waits for the app's ack of it. */
export interface Delivery {
  envelope: Envelope;
  acked(timeoutMs?: number): Promise<SocketModeAck>;
}

export interface SocketModeContext extends SenderContext {
  appId: string;
  /** `debug_info.host` in hello and disconnect messages. */
  host: string;
}

export class FakeSocketMode {
  readonly connections: SocketModeConnection[] = [];
  readonly acks: SocketModeAck[] = [];
  /** Tickets handed out by apps.connections.open; each opens one connection. */
  private readonly tickets = new Set<string>();
  private readonly changes = new EventEmitter();
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: SocketModeContext,
    /** Slack pings each connection now and then (the client watches for it); 0 turns it off. */
    private readonly pingIntervalMs = 5_000,
  ) {
    this.changes.setMaxListeners(100);
  }

  /** apps.connections.open's `url`: a fresh one-use ticket. */
  openUrl(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `${this.ctx.url.replace(/^http/, "ws")}/link/?ticket=${ticket}&app_id=${this.ctx.appId}`;
  }

  /** The fake server's `upgrade` handler. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", this.ctx.url);
    const ticket = url.searchParams.get("ticket") ?? "";
    if (url.pathname !== "/link/" || !this.tickets.delete(ticket)) return refuse(socket, 401, "Unauthorized");
    const ws = acceptUpgrade(req, socket, head);
    if (!ws) return;
    const conn: SocketModeConnection = { index: this.connections.length, ticket, ws, openedAt: Date.now(), other: [], pings: 0 };
    this.connections.push(conn);
    ws.on("text", (text: string) => this.onMessage(conn, text));
    ws.on("ping", () => {
      conn.pings++;
      this.changed();
    });
    ws.on("close", ({ code }: { code: number }) => {
      conn.closedAt = Date.now();
      conn.closeCode = code;
      this.changed();
    });
    ws.sendText(
      JSON.stringify({
        type: "hello",
        num_connections: this.open().length,
        debug_info: { host: this.ctx.host, build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.ctx.appId },
      }),
    );
    this.startPinging();
    this.changed();
  }

  /** Connections still open. */
  open(): SocketModeConnection[] {
    return this.connections.filter((c) => c.closedAt === undefined);
  }

  /** Sends an envelope on a connection (default: the newest open one). */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, opts: EnvelopeOptions = {}): Delivery {
    const conn = opts.connection !== undefined ? this.connections[opts.connection] : this.open().at(-1);
    if (!conn || conn.closedAt !== undefined) throw new Error("fake Slack: no open Socket Mode connection to deliver on");
    const envelope: Envelope = {
      envelope_id: opts.envelopeId ?? randomUUID(),
      type,
      payload,
      accepts_response_payload: opts.acceptsResponsePayload ?? type !== "events_api",
      ...(type === "events_api" ? { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryReason ?? "" } : {}),
    };
    conn.ws.sendText(JSON.stringify(envelope));
    return {
      envelope,
      acked: (timeoutMs) => this.until(() => this.acks.find((a) => a.envelope_id === envelope.envelope_id), `an ack of envelope ${envelope.envelope_id}`, timeoutMs),
    };
  }

  /** `{type:"disconnect", reason}`: Slack asks the app to reconnect (or that Socket Mode was turned off). */
  disconnect(reason: "warning" | "refresh_requested" | "link_disabled" | "too_many_websockets", connection?: number): void {
    const conn = connection !== undefined ? this.connections[connection] : this.open().at(-1);
    conn?.ws.sendText(JSON.stringify({ type: "disconnect", reason, debug_info: { host: this.ctx.host } }));
  }

  /** Resolves with the connection numbered `index` once it is open. */
  waitForConnection(index: number, timeoutMs?: number): Promise<SocketModeConnection> {
    return this.until(() => this.connections[index], `Socket Mode connection #${index}`, timeoutMs);
  }

  /** Resolves once connection `index` has been pinged by the app `n` times. */
  waitForPings(index: number, n: number, timeoutMs?: number): Promise<SocketModeConnection> {
    return this.until(() => ((this.connections[index]?.pings ?? 0) >= n ? this.connections[index] : undefined), `${n} pings on Socket Mode connection #${index}`, timeoutMs);
  }

  /** Resolves once connection `index` is closed (TCP gone). */
  waitForClose(index: number, timeoutMs?: number): Promise<SocketModeConnection> {
    return this.until(() => (this.connections[index]?.closedAt !== undefined ? this.connections[index] : undefined), `Socket Mode connection #${index} to close`, timeoutMs);
  }

  /** Drops every connection (the fake is shutting down). */
  closeAll(): void {
    clearInterval(this.pingTimer);
    for (const c of this.open()) c.ws.destroy();
  }

  // ---- payloads: the same bodies as the HTTP requests in sender.ts (payloads.ts), as JSON in envelopes ----

  /** A slash command (`slash_commands`): the form fields Slack would post, as a JSON object. */
  slashCommand(c: SlashCommand, opts?: EnvelopeOptions): Delivery {
    return this.deliver("slash_commands", slashCommandFields(this.ctx, c), opts);
  }

  /** An Events API `event_callback` (`events_api`); pass the same eventId and a retryAttempt for a redelivery. */
  eventCallback(event: Record<string, unknown>, opts: EnvelopeOptions & { eventId?: string } = {}): Delivery {
    return this.deliver("events_api", eventCallbackBody(this.ctx, event, opts.eventId), opts);
  }

  /** A button press on a bot message (`interactive`, payload type block_actions). */
  blockAction(p: BlockAction, opts?: EnvelopeOptions): Delivery {
    return this.deliver("interactive", blockActionsPayload(this.ctx, p), opts);
  }

  // ---- internals ----

  private onMessage(conn: SocketModeConnection, text: string): void {
    let msg: { envelope_id?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      conn.other.push(text);
      return this.changed();
    }
    if (typeof msg.envelope_id !== "string") {
      conn.other.push(text);
      return this.changed();
    }
    this.acks.push({
      envelope_id: msg.envelope_id,
      ...(msg.payload !== undefined ? { payload: msg.payload as Record<string, unknown> } : {}),
      connection: conn.index,
      at: Date.now(),
    });
    this.changed();
  }

  private startPinging(): void {
    if (this.pingTimer || this.pingIntervalMs <= 0) return;
    this.pingTimer = setInterval(() => {
      for (const c of this.open()) c.ws.ping(`Ping from ${this.ctx.host}`);
    }, this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private changed(): void {
    queueMicrotask(() => this.changes.emit("change"));
  }

  /** Resolves with `check()` once it is defined, re-checking on every change; rejects after the timeout. */
  private until<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const onChange = () => {
        const v = check();
        if (v === undefined) return;
        clearTimeout(timer);
        this.changes.off("change", onChange);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.changes.off("change", onChange);
        reject(new Error(`fake Slack: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.changes.on("change", onChange);
    });
  }
}
