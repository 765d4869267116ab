/**
 * Requests to the bot, as Slack sends them: slash commands, event callbacks, url_verification and
 * block_actions, signed (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`) exactly as Slack signs them.
 */
import { createHmac, randomUUID } from "node:crypto";
import { request, type Agent } from "node:http";
import { blockActionsPayload, eventCallbackBody, slashCommandFields, type BlockAction, type PayloadContext, type SlashCommand } from "./payloads.ts";

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

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`: Slack's request signature. */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

/**
 * A request signed ahead of its sending: a burst signs every request first, so the burst's own
 * timing is only the sending (signing 1,000 bodies takes longer than Slack takes to send them).
 */
export interface SignedRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** What sending a signed request came to: the bot's answer, or the socket error (code) that stopped it. */
export type SentResult = SendResult | { status: 0; error: string; ms: number };

/**
 * Sends a signed request over `agent` (a keep-alive agent reuses sockets, as Slack's senders do);
 * `ms` runs from the call to the answer's last byte. Never throws: a refused or reset connection
 * comes back as `status: 0` with its error code.
 */
export function sendSignedRequest(r: SignedRequest, agent: Agent, timeoutMs = 10_000): Promise<SentResult> {
  const started = performance.now();
  return new Promise((done) => {
    const req = request(r.url, { method: "POST", agent, headers: { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) }, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => done({ status: res.statusCode ?? 0, body: text, ms: performance.now() - started }));
      res.on("error", (err: NodeJS.ErrnoException) => done({ status: 0, error: err.code ?? err.message, ms: performance.now() - started }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => done({ status: 0, error: err.code ?? err.message, ms: performance.now() - started }));
    req.end(r.body);
  });
}

/** Who the requests come from, and the fake they point back to. */
export interface SenderContext {
  signingSecret: string;
  teamId: string;
  botUserId: string;
  botId: string;
  /** Where the fake listens: response_url points there. */
  url: string;
  /** A fresh message ts (the Web API's sequence, so the two never collide). */
  nextTs(): string;
}

export class SlackSender {
  constructor(private readonly ctx: SenderContext) {}

  private sign(url: string, body: string, contentType: string, opts: SendOptions = {}): SignedRequest {
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = opts.signature ?? slackSignature(opts.secret ?? this.ctx.signingSecret, timestamp, body);
    return {
      url,
      body,
      headers: {
        "content-type": contentType,
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signature,
        "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        ...opts.headers,
      },
    };
  }

  private async sendSigned(url: string, body: string, contentType: string, opts: SendOptions = {}): Promise<SendResult> {
    const r = this.sign(url, body, contentType, opts);
    const started = performance.now();
    const res = await fetch(r.url, { method: "POST", headers: r.headers, body: r.body });
    const text = await res.text();
    return { status: res.status, body: text, ms: performance.now() - started };
  }

  /** The payloads' context. api_app_id is always A0000001 over HTTP (FakeSlackOptions.appId is Socket Mode's). */
  private get payloadCtx(): PayloadContext {
    return { ...this.ctx, appId: "A0000001" };
  }

  /** A slash command, form-encoded as Slack posts it. */
  slashCommand(botUrl: string, c: SlashCommand, opts?: SendOptions): Promise<SendResult> {
    const body = new URLSearchParams(slashCommandFields(this.payloadCtx, c)).toString();
    return this.sendSigned(botUrl, body, "application/x-www-form-urlencoded", opts);
  }

  /** A slash command signed now and sent later with sendSignedRequest (bursts). */
  signSlashCommand(botUrl: string, c: SlashCommand, opts?: SendOptions): SignedRequest {
    return this.sign(botUrl, new URLSearchParams(slashCommandFields(this.payloadCtx, c)).toString(), "application/x-www-form-urlencoded", opts);
  }

  /** An Events API `event_callback` (JSON), with optional retry headers. */
  eventCallback(botUrl: string, event: Record<string, unknown>, opts: SendOptions & { eventId?: string; retryNum?: number; retryReason?: string } = {}): Promise<SendResult> {
    const body = JSON.stringify(eventCallbackBody(this.payloadCtx, event, opts.eventId));
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.retryNum !== undefined) {
      headers["x-slack-retry-num"] = String(opts.retryNum);
      headers["x-slack-retry-reason"] = opts.retryReason ?? "http_timeout";
    }
    return this.sendSigned(botUrl, body, "application/json", { ...opts, headers });
  }

  /** `<@bot> text` in a channel (or in a thread when threadTs is given). */
  appMentionEvent(m: { text: string; user: string; channel: string; ts?: string; threadTs?: string }): Record<string, unknown> {
    const ts = m.ts ?? this.ctx.nextTs();
    return {
      type: "app_mention",
      user: m.user,
      text: m.text,
      ts,
      channel: m.channel,
      event_ts: ts,
      client_msg_id: randomUUID(),
      team: this.ctx.teamId,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    };
  }

  /** A message in a DM with the bot (`message.im`). */
  directMessageEvent(m: { text: string; user: string; channel: string; ts?: string; threadTs?: string; botId?: string; subtype?: string }): Record<string, unknown> {
    const ts = m.ts ?? this.ctx.nextTs();
    return {
      type: "message",
      channel_type: "im",
      user: m.user,
      text: m.text,
      ts,
      channel: m.channel,
      event_ts: ts,
      team: this.ctx.teamId,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
      ...(m.botId ? { bot_id: m.botId } : {}),
      ...(m.subtype ? { subtype: m.subtype } : {}),
    };
  }

  urlVerification(botUrl: string, challenge: string, opts?: SendOptions): Promise<SendResult> {
    return this.sendSigned(botUrl, JSON.stringify({ token: "legacy-verification-token", challenge, type: "url_verification" }), "application/json", opts);
  }

  /** A button press on a bot message, form-encoded `payload=` JSON as Slack posts it. */
  blockAction(botUrl: string, p: BlockAction, opts?: SendOptions): Promise<SendResult> {
    const r = this.signBlockAction(botUrl, p, opts);
    return this.sendSigned(botUrl, r.body, "application/x-www-form-urlencoded", opts);
  }

  /** A button press signed now, to send later (again, for a replay). */
  signBlockAction(botUrl: string, p: BlockAction, opts?: SendOptions): SignedRequest {
    const body = new URLSearchParams({ payload: JSON.stringify(blockActionsPayload(this.payloadCtx, p)) }).toString();
    return this.sign(botUrl, body, "application/x-www-form-urlencoded", opts);
  }
}
