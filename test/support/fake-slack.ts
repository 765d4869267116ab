/**
 * A fake Slack on loopback that speaks the real wire format, both ways:
 *  - Web API: `POST /api/<method>` with the bot token, form-encoded (JSON-valued fields such as
 *    `blocks`) or JSON, answering Slack-shaped JSON; it checks the token and Block Kit limits, and
 *    records every call. Point the WebClient at it with `slackApiUrl: fake.apiUrl`.
 *  - Requests to the bot: slash commands, event callbacks, url_verification and block_actions,
 *    signed (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`) exactly as Slack signs them.
 *  - Socket Mode (`fake.socketMode`): `apps.connections.open` with the app-level token, then a
 *    WebSocket on this same server carrying hello, envelopes and disconnects, with the app's acks.
 * This file serves and records; the workspace and method answers are in fake-slack/web-api.ts,
 * the requests to the bot in fake-slack/sender.ts, Socket Mode in fake-slack/socket-mode.ts.
 */
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { SlackSender, type SendResult } from "./fake-slack/sender.ts";
import { FakeSocketMode } from "./fake-slack/socket-mode.ts";
import { blockProblems, blocksTextLength, FakeWorkspace, MESSAGE_SIZE, parseArgs, readBody } from "./fake-slack/web-api.ts";

export { sendSignedRequest, slackSignature, type SendOptions, type SendResult, type SentResult, type SignedRequest } from "./fake-slack/sender.ts";
export { FakeSocketMode, type Delivery, type Envelope, type SocketModeAck, type SocketModeConnection } from "./fake-slack/socket-mode.ts";
export { blockProblems, blocksTextLength, MESSAGE_SIZE, type FakeMessage, type FakeUser, type FakeUsergroup } from "./fake-slack/web-api.ts";

export interface RecordedCall {
  /** Web API method ("chat.postMessage"), or "upload" / "response_url". */
  method: string;
  args: Record<string, unknown>;
  /** The token the call carried (Authorization: Bearer, or a `token` argument), if any. */
  token?: string;
  /** Position in `calls`. */
  index: number;
  at: number;
}

export interface FakeSlackOptions {
  signingSecret: string;
  botToken: string;
  /** App-level token (xapp-...) that apps.connections.open accepts; without it Socket Mode is off. */
  appToken?: string;
  /** api_app_id in payloads and the Socket Mode URL. Default A0000001. */
  appId?: string;
  /** Socket Mode: how often Slack pings each connection (0: never). Default 5000. */
  socketModePingMs?: number;
  botUserId?: string;
  botId?: string;
  teamId?: string;
}

type Failure = { status?: number; retryAfter?: number; error?: string };

export class FakeSlack extends FakeWorkspace {
  readonly calls: RecordedCall[] = [];
  private readonly events = new EventEmitter();
  private readonly failures = new Map<string, Failure[]>();
  private readonly holds: { match: (c: RecordedCall) => boolean; arrived: (c: RecordedCall) => void; released: Promise<void> }[] = [];
  private readonly sender: SlackSender;
  /** Socket Mode: connections, envelopes to the app and its acks. */
  readonly socketMode: FakeSocketMode;

  private constructor(
    private readonly server: Server,
    url: string,
    readonly opts: FakeSlackOptions,
  ) {
    super(url, opts);
    this.events.setMaxListeners(100);
    const ctx = { signingSecret: opts.signingSecret, teamId: this.teamId, botUserId: this.botUserId, botId: this.botId, url, nextTs: () => this.nextTs() };
    this.sender = new SlackSender(ctx);
    this.socketMode = new FakeSocketMode({ ...ctx, appId: opts.appId ?? "A0000001", host: "applink-fake-1" }, opts.socketModePingMs);
  }

  static async start(opts: FakeSlackOptions): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      fake!.route(req, res).catch((err) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => fake!.socketMode.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeSlack(server, `http://127.0.0.1:${port}`, opts);
    return fake;
  }

  /** The WebClient's `slackApiUrl`. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async close(): Promise<void> {
    this.socketMode.closeAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `count` calls of `method` fail: HTTP 429 with Retry-After, or `{ok:false, error}`. */
  failNext(method: string, failure: Failure, count = 1): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < count; i++) list.push(failure);
    this.failures.set(method, list);
  }

  /**
   * The next Web API call matching is taken (recorded, and a posted message kept) but not answered
   * until `release()`: the window in which a client that dies never learns its call landed.
   * `arrived` resolves with the call once it is held.
   */
  holdNext(match: (c: RecordedCall) => boolean): { arrived: Promise<RecordedCall>; release: () => void } {
    let release!: () => void;
    let arrived!: (c: RecordedCall) => void;
    const released = new Promise<void>((r) => (release = r));
    const arrivedP = new Promise<RecordedCall>((r) => (arrived = r));
    this.holds.push({ match, arrived, released });
    return { arrived: arrivedP, release };
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves with the first call (at or after `from`) matching; waits for it if needed. */
  waitForCall(match: string | ((c: RecordedCall) => boolean), opts: { from?: number; timeoutMs?: number } = {}): Promise<RecordedCall> {
    const pred = typeof match === "string" ? (c: RecordedCall) => c.method === match : match;
    const from = opts.from ?? 0;
    const found = this.calls.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onCall = (c: RecordedCall) => {
        if (c.index >= from && pred(c)) {
          clearTimeout(timer);
          this.events.off("call", onCall);
          resolve(c);
        }
      };
      const timer = setTimeout(() => {
        this.events.off("call", onCall);
        reject(new Error(`fake Slack: no matching ${typeof match === "string" ? match : "call"} within ${opts.timeoutMs ?? 10_000} ms; calls: ${this.calls.map((c) => c.method).join(", ")}`));
      }, opts.timeoutMs ?? 10_000);
      this.events.on("call", onCall);
    });
  }

  private record(method: string, args: Record<string, unknown>, token?: string): RecordedCall {
    const call = { method, args, ...(token ? { token } : {}), index: this.calls.length, at: Date.now() };
    this.calls.push(call);
    queueMicrotask(() => this.events.emit("call", call));
    return call;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const raw = await readBody(req);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(body));
    };
    if (url.pathname.startsWith("/upload/")) {
      const id = url.pathname.slice("/upload/".length);
      const args = await parseArgs(req, raw);
      const content = typeof args.body === "string" ? args.body : raw.toString("utf8");
      const u = this.uploads.get(id);
      if (u) u.content = content;
      this.record("upload", { file_id: id, length: content.length });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`OK - ${content.length}`);
      return;
    }
    if (url.pathname.startsWith("/respond/")) {
      const args = await parseArgs(req, raw);
      this.record("response_url", { ...args, url: url.pathname });
      // A response_url takes the same message as chat.postMessage, with the same limits.
      const problems = args.blocks !== undefined ? blockProblems(args.blocks) : [];
      if (problems.length > 0) return send(200, { ok: false, error: "invalid_blocks", errors: problems });
      if (blocksTextLength(args.blocks) > MESSAGE_SIZE.blocksText) return send(200, { ok: false, error: "msg_blocks_too_long" });
      send(200, { ok: true });
      return;
    }
    if (!url.pathname.startsWith("/api/")) {
      send(404, { ok: false, error: "unknown_path" });
      return;
    }
    const method = url.pathname.slice("/api/".length);
    const args = await parseArgs(req, raw);
    const header = req.headers.authorization;
    const auth = header ?? (typeof args.token === "string" ? `Bearer ${args.token}` : "");
    delete args.token;
    const call = this.record(method, args, auth.replace(/^Bearer /, "") || undefined);
    const failure = this.failures.get(method)?.shift();
    if (failure) {
      if (failure.status === 429) return send(429, { ok: false, error: "ratelimited" }, { "retry-after": String(failure.retryAfter ?? 1) });
      return send(failure.status ?? 200, { ok: false, error: failure.error ?? "internal_error" });
    }
    const appAuth = this.opts.appToken ? `Bearer ${this.opts.appToken}` : undefined;
    if (method === "apps.connections.open") {
      // App-level token only, and only in the Authorization header (Slack: "passing it as a POST
      // parameter will result in an error").
      if (auth === `Bearer ${this.opts.botToken}`) return send(200, { ok: false, error: "not_allowed_token_type" });
      if (!appAuth || header !== appAuth) return send(200, { ok: false, error: auth ? "invalid_auth" : "not_authed" });
      return send(200, { ok: true, url: this.socketMode.openUrl() });
    }
    if (appAuth && auth === appAuth) return send(200, { ok: false, error: "not_allowed_token_type" });
    if (auth !== `Bearer ${this.opts.botToken}`) return send(200, { ok: false, error: auth ? "invalid_auth" : "not_authed" });
    const answer = this.answer(method, args);
    const held = this.holds.findIndex((x) => x.match(call));
    if (held >= 0) {
      const [hold] = this.holds.splice(held, 1);
      hold!.arrived(call);
      await hold!.released;
    }
    send(200, answer);
  }

  // ---- requests to the bot, signed as Slack signs them (sender.ts) ----

  /** A slash command, form-encoded as Slack posts it. */
  slashCommand(...a: Parameters<SlackSender["slashCommand"]>): Promise<SendResult> {
    return this.sender.slashCommand(...a);
  }

  /** A slash command signed now, to send later with sendSignedRequest (a burst signs first, then sends). */
  signSlashCommand(...a: Parameters<SlackSender["signSlashCommand"]>): ReturnType<SlackSender["signSlashCommand"]> {
    return this.sender.signSlashCommand(...a);
  }

  /** An Events API `event_callback` (JSON), with optional retry headers. */
  eventCallback(...a: Parameters<SlackSender["eventCallback"]>): Promise<SendResult> {
    return this.sender.eventCallback(...a);
  }

  /** `<@bot> text` in a channel (or in a thread when threadTs is given). */
  appMentionEvent(...a: Parameters<SlackSender["appMentionEvent"]>): Record<string, unknown> {
    return this.sender.appMentionEvent(...a);
  }

  /** A message in a DM with the bot (`message.im`). */
  directMessageEvent(...a: Parameters<SlackSender["directMessageEvent"]>): Record<string, unknown> {
    return this.sender.directMessageEvent(...a);
  }

  urlVerification(...a: Parameters<SlackSender["urlVerification"]>): Promise<SendResult> {
    return this.sender.urlVerification(...a);
  }

  /** A button press on a bot message, form-encoded `payload=` JSON as Slack posts it. */
  blockAction(...a: Parameters<SlackSender["blockAction"]>): Promise<SendResult> {
    return this.sender.blockAction(...a);
  }

  /** A button press signed now, to send later with postSigned or sendSignedRequest (replays). */
  signBlockAction(...a: Parameters<SlackSender["signBlockAction"]>): ReturnType<SlackSender["signBlockAction"]> {
    return this.sender.signBlockAction(...a);
  }
}
