import { createHmac, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake Slack on loopback that speaks the real wire format, both ways:
 *  - Web API: `POST /api/<method>` with the bot token, form-encoded (JSON-valued fields such as
 *    `blocks`) or JSON, answering Slack-shaped JSON; it checks the token and Block Kit limits, and
 *    records every call. Point the WebClient at it with `slackApiUrl: fake.apiUrl`.
 *  - Requests to the bot: slash commands, event callbacks, url_verification and block_actions,
 *    signed (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`) exactly as Slack signs them.
 */

export interface RecordedCall {
  /** Web API method ("chat.postMessage"), or "upload" / "response_url". */
  method: string;
  args: Record<string, unknown>;
  /** Position in `calls`. */
  index: number;
  at: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  /** Set for chat.postEphemeral: the only user who sees it. */
  ephemeralTo?: string;
  edits: number;
}

export interface FakeUser {
  id: string;
  name: string;
  email?: string;
  is_bot?: boolean;
}

export interface FakeUsergroup {
  id: string;
  handle: string;
  users: string[];
}

export interface FakeSlackOptions {
  signingSecret: string;
  botToken: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
}

export interface SendOptions {
  /** Unix seconds in X-Slack-Request-Timestamp (default now). */
  timestamp?: number;
  /** Overrides the computed X-Slack-Signature (forgeries). */
  signature?: string;
  /** Sign with another secret. */
  secret?: string;
  headers?: Record<string, string>;
}

export interface SendResult {
  status: number;
  body: string;
  /** Time until the bot answered (Slack gives up after 3 s). */
  ms: number;
}

type Failure = { status?: number; retryAfter?: number; error?: string };

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`: Slack's request signature. */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

const JSON_FIELDS = new Set(["blocks", "attachments", "files", "file_uploads", "metadata", "usergroups"]);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Block Kit limits Slack enforces with `invalid_blocks`. Returns the problems found. */
export function blockProblems(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return ["blocks must be an array"];
  const problems: string[] = [];
  if (blocks.length > 50) problems.push(`too many blocks: ${blocks.length} > 50`);
  for (const [i, b] of (blocks as Record<string, any>[]).entries()) {
    if (b.type === "section") {
      const t = b.text?.text;
      if (typeof t !== "string" || t.length < 1 || t.length > 3000) problems.push(`blocks[${i}].text must be 1..3000 chars (${t?.length})`);
    }
    if (b.type === "context" && (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 10)) problems.push(`blocks[${i}].elements must be 1..10`);
    if (b.type === "actions") {
      if (!Array.isArray(b.elements) || b.elements.length > 25) problems.push(`blocks[${i}].elements must be <= 25`);
      for (const [j, e] of (b.elements ?? []).entries()) {
        if (e.type !== "button") continue;
        if (typeof e.text?.text !== "string" || e.text.text.length > 75) problems.push(`blocks[${i}].elements[${j}].text must be <= 75 chars`);
        if (typeof e.value === "string" && e.value.length > 2000) problems.push(`blocks[${i}].elements[${j}].value must be <= 2000 chars`);
        if (typeof e.action_id === "string" && e.action_id.length > 255) problems.push(`blocks[${i}].elements[${j}].action_id too long`);
      }
    }
    if (typeof b.block_id === "string" && b.block_id.length > 255) problems.push(`blocks[${i}].block_id too long`);
  }
  return problems;
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly users = new Map<string, FakeUser>();
  readonly usergroups: FakeUsergroup[] = [];
  readonly channels = new Map<string, { id: string; name: string; is_im?: boolean }>();
  readonly uploads = new Map<string, { filename: string; length: number; content?: string }>();
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  private readonly events = new EventEmitter();
  private readonly failures = new Map<string, Failure[]>();
  private seq = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly opts: FakeSlackOptions,
  ) {
    this.botUserId = opts.botUserId ?? "UBOT0001";
    this.botId = opts.botId ?? "BBOT0001";
    this.teamId = opts.teamId ?? "T0000001";
    this.events.setMaxListeners(100);
  }

  static async start(opts: FakeSlackOptions): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      fake!.route(req, res).catch((err) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
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
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `count` calls of `method` fail: HTTP 429 with Retry-After, or `{ok:false, error}`. */
  failNext(method: string, failure: Failure, count = 1): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < count; i++) list.push(failure);
    this.failures.set(method, list);
  }

  addUser(u: FakeUser): void {
    this.users.set(u.id, u);
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

  /** Top-level messages and replies posted (not ephemeral) in a thread, head first. */
  thread(channel: string, ts: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && !m.ephemeralTo && (m.ts === ts || m.thread_ts === ts));
  }

  private nextTs(): string {
    this.seq++;
    return `${1_700_000_000 + this.seq}.${String(this.seq).padStart(6, "0")}`;
  }

  private record(method: string, args: Record<string, unknown>): RecordedCall {
    const call = { method, args, index: this.calls.length, at: Date.now() };
    this.calls.push(call);
    queueMicrotask(() => this.events.emit("call", call));
    return call;
  }

  private async parseArgs(req: IncomingMessage, raw: Buffer): Promise<Record<string, unknown>> {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
    if (type === "application/json") return raw.length > 0 ? (JSON.parse(raw.toString("utf8")) as Record<string, unknown>) : {};
    if (type === "multipart/form-data") {
      const form = await new Request("http://fake/", { method: "POST", headers: { "content-type": String(req.headers["content-type"]) }, body: new Uint8Array(raw) }).formData();
      const out: Record<string, unknown> = {};
      for (const [k, v] of form.entries()) out[k] = typeof v === "string" ? v : Buffer.from(await v.arrayBuffer()).toString("utf8");
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(raw.toString("utf8"))) out[k] = JSON_FIELDS.has(k) && /^[[{]/.test(v) ? JSON.parse(v) : v;
    return out;
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
      const args = await this.parseArgs(req, raw);
      const content = typeof args.body === "string" ? args.body : raw.toString("utf8");
      const u = this.uploads.get(id);
      if (u) u.content = content;
      this.record("upload", { file_id: id, length: content.length });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`OK - ${content.length}`);
      return;
    }
    if (url.pathname.startsWith("/respond/")) {
      const args = await this.parseArgs(req, raw);
      this.record("response_url", { ...args, url: url.pathname });
      send(200, { ok: true });
      return;
    }
    if (!url.pathname.startsWith("/api/")) {
      send(404, { ok: false, error: "unknown_path" });
      return;
    }
    const method = url.pathname.slice("/api/".length);
    const args = await this.parseArgs(req, raw);
    const auth = req.headers.authorization ?? (typeof args.token === "string" ? `Bearer ${args.token}` : "");
    delete args.token;
    this.record(method, args);
    const failure = this.failures.get(method)?.shift();
    if (failure) {
      if (failure.status === 429) return send(429, { ok: false, error: "ratelimited" }, { "retry-after": String(failure.retryAfter ?? 1) });
      return send(failure.status ?? 200, { ok: false, error: failure.error ?? "internal_error" });
    }
    if (auth !== `Bearer ${this.opts.botToken}`) return send(200, { ok: false, error: auth ? "invalid_auth" : "not_authed" });
    send(200, this.api(method, args));
  }

  /** The Web API methods Raptor uses, with Slack's answers. */
  private api(method: string, a: Record<string, any>): Record<string, unknown> {
    const ok = (x: Record<string, unknown> = {}) => ({ ok: true, ...x });
    const fail = (error: string, x: Record<string, unknown> = {}) => ({ ok: false, error, ...x });
    const checkMessage = () => {
      if (!a.channel) return fail("channel_not_found");
      if (!a.text && !a.blocks) return fail("no_text");
      if (a.blocks !== undefined) {
        const problems = blockProblems(a.blocks);
        if (problems.length > 0) return fail("invalid_blocks", { errors: problems });
      }
      return undefined;
    };
    switch (method) {
      case "auth.test":
        return ok({ url: "https://raptor-test.slack.com/", team: "Raptor Test", user: "raptor", team_id: this.teamId, user_id: this.botUserId, bot_id: this.botId });
      case "chat.postMessage": {
        const bad = checkMessage();
        if (bad) return bad;
        const m: FakeMessage = { channel: a.channel, ts: this.nextTs(), text: a.text, blocks: a.blocks, edits: 0, ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}) };
        this.messages.push(m);
        return ok({ channel: m.channel, ts: m.ts, message: { type: "message", text: m.text, user: this.botUserId, bot_id: this.botId, ts: m.ts, blocks: m.blocks, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) } });
      }
      case "chat.update": {
        const bad = checkMessage();
        if (bad) return bad;
        const m = this.messages.find((x) => x.channel === a.channel && x.ts === a.ts && !x.ephemeralTo);
        if (!m) return fail("message_not_found");
        m.text = a.text;
        m.blocks = a.blocks;
        m.edits++;
        return ok({ channel: m.channel, ts: m.ts, text: m.text });
      }
      case "chat.postEphemeral": {
        const bad = checkMessage();
        if (bad) return bad;
        if (!a.user) return fail("user_not_found");
        const m: FakeMessage = { channel: a.channel, ts: this.nextTs(), text: a.text, blocks: a.blocks, ephemeralTo: a.user, edits: 0, ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}) };
        this.messages.push(m);
        return ok({ message_ts: m.ts });
      }
      case "users.info": {
        const u = this.users.get(a.user);
        if (!u) return fail("user_not_found");
        return ok({ user: { id: u.id, team_id: this.teamId, name: u.name, real_name: u.name, is_bot: u.is_bot ?? false, profile: { display_name: u.name, real_name: u.name, ...(u.email ? { email: u.email } : {}) } } });
      }
      case "usergroups.list":
        return ok({ usergroups: this.usergroups.map((g) => ({ id: g.id, team_id: this.teamId, handle: g.handle, name: g.handle, ...(a.include_users ? { users: g.users } : {}) })) });
      case "usergroups.users.list": {
        const g = this.usergroups.find((x) => x.id === a.usergroup);
        return g ? ok({ users: g.users }) : fail("no_such_subteam");
      }
      case "conversations.info": {
        const c = this.channels.get(a.channel);
        return c ? ok({ channel: { id: c.id, name: c.name, is_im: c.is_im ?? false, is_channel: !c.is_im } }) : fail("channel_not_found");
      }
      case "files.getUploadURLExternal": {
        if (!a.filename || !a.length) return fail("invalid_arguments");
        const id = `F${String(++this.seq).padStart(8, "0")}`;
        this.uploads.set(id, { filename: a.filename, length: Number(a.length) });
        return ok({ upload_url: `${this.url}/upload/${id}`, file_id: id });
      }
      case "files.completeUploadExternal": {
        const files = (a.files ?? []) as { id: string; title?: string }[];
        if (files.some((f) => !this.uploads.get(f.id)?.content)) return fail("file_not_found");
        if (a.thread_ts && !a.channel_id) return fail("invalid_arguments");
        return ok({ files: files.map((f) => ({ id: f.id, title: f.title ?? this.uploads.get(f.id)!.filename, name: this.uploads.get(f.id)!.filename })) });
      }
      default:
        return fail("unknown_method");
    }
  }

  // ---- requests to the bot, signed as Slack signs them ----

  private async sendSigned(url: string, body: string, contentType: string, opts: SendOptions = {}): Promise<SendResult> {
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = opts.signature ?? slackSignature(opts.secret ?? this.opts.signingSecret, timestamp, body);
    const started = performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": contentType,
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signature,
        "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        ...opts.headers,
      },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text, ms: performance.now() - started };
  }

  private responseUrl(): string {
    return `${this.url}/respond/${randomUUID()}`;
  }

  /** A slash command, form-encoded as Slack posts it. */
  slashCommand(
    botUrl: string,
    c: { text: string; user: string; userName?: string; channel: string; channelName?: string; command?: string },
    opts?: SendOptions,
  ): Promise<SendResult> {
    const body = new URLSearchParams({
      token: "legacy-verification-token",
      team_id: this.teamId,
      team_domain: "raptor-test",
      channel_id: c.channel,
      channel_name: c.channelName ?? (c.channel.startsWith("D") ? "directmessage" : "general"),
      user_id: c.user,
      user_name: c.userName ?? c.user.toLowerCase(),
      command: c.command ?? "/raptor",
      text: c.text,
      api_app_id: "A0000001",
      is_enterprise_install: "false",
      response_url: this.responseUrl(),
      trigger_id: `${Date.now()}.1.${randomUUID().slice(0, 8)}`,
    }).toString();
    return this.sendSigned(botUrl, body, "application/x-www-form-urlencoded", opts);
  }

  /** An Events API `event_callback` (JSON), with optional retry headers. */
  eventCallback(botUrl: string, event: Record<string, unknown>, opts: SendOptions & { eventId?: string; retryNum?: number; retryReason?: string } = {}): Promise<SendResult> {
    const body = JSON.stringify({
      token: "legacy-verification-token",
      team_id: this.teamId,
      context_team_id: this.teamId,
      api_app_id: "A0000001",
      event,
      type: "event_callback",
      event_id: opts.eventId ?? `Ev${randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${randomUUID()}`,
    });
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.retryNum !== undefined) {
      headers["x-slack-retry-num"] = String(opts.retryNum);
      headers["x-slack-retry-reason"] = opts.retryReason ?? "http_timeout";
    }
    return this.sendSigned(botUrl, body, "application/json", { ...opts, headers });
  }

  /** `<@bot> text` in a channel (or in a thread when threadTs is given). */
  appMentionEvent(m: { text: string; user: string; channel: string; ts?: string; threadTs?: string }): Record<string, unknown> {
    const ts = m.ts ?? this.nextTs();
    return {
      type: "app_mention",
      user: m.user,
      text: m.text,
      ts,
      channel: m.channel,
      event_ts: ts,
      client_msg_id: randomUUID(),
      team: this.teamId,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    };
  }

  /** A message in a DM with the bot (`message.im`). */
  directMessageEvent(m: { text: string; user: string; channel: string; ts?: string; threadTs?: string; botId?: string; subtype?: string }): Record<string, unknown> {
    const ts = m.ts ?? this.nextTs();
    return {
      type: "message",
      channel_type: "im",
      user: m.user,
      text: m.text,
      ts,
      channel: m.channel,
      event_ts: ts,
      team: this.teamId,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
      ...(m.botId ? { bot_id: m.botId } : {}),
      ...(m.subtype ? { subtype: m.subtype } : {}),
    };
  }

  urlVerification(botUrl: string, challenge: string, opts?: SendOptions): Promise<SendResult> {
    return this.sendSigned(botUrl, JSON.stringify({ token: "legacy-verification-token", challenge, type: "url_verification" }), "application/json", opts);
  }

  /** A button press on a bot message, form-encoded `payload=` JSON as Slack posts it. */
  blockAction(
    botUrl: string,
    p: { user: string; userName?: string; actionId: string; value: string; channel: string; messageTs: string; threadTs?: string; text?: string },
    opts?: SendOptions,
  ): Promise<SendResult> {
    const payload = {
      type: "block_actions",
      user: { id: p.user, username: p.userName ?? p.user.toLowerCase(), name: p.userName ?? p.user.toLowerCase(), team_id: this.teamId },
      api_app_id: "A0000001",
      token: "legacy-verification-token",
      container: { type: "message", message_ts: p.messageTs, channel_id: p.channel, is_ephemeral: false, ...(p.threadTs ? { thread_ts: p.threadTs } : {}) },
      trigger_id: `${Date.now()}.1.${randomUUID().slice(0, 8)}`,
      team: { id: this.teamId, domain: "raptor-test" },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: p.channel, name: "general" },
      message: { type: "message", ts: p.messageTs, user: this.botUserId, bot_id: this.botId, text: "", ...(p.threadTs ? { thread_ts: p.threadTs } : {}) },
      state: { values: {} },
      response_url: this.responseUrl(),
      actions: [{ action_id: p.actionId, block_id: "b1", text: { type: "plain_text", text: p.text ?? p.actionId, emoji: true }, value: p.value, type: "button", action_ts: `${Date.now() / 1000}` }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.sendSigned(botUrl, body, "application/x-www-form-urlencoded", opts);
  }
}
