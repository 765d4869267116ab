/**
 * Requests to the bot, as Slack sends them: slash commands, event callbacks, url_verification and
 * block_actions, signed (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`) exactly as Slack signs them.
 */
import { createHmac, randomUUID } from "node:crypto";

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

  private async sendSigned(url: string, body: string, contentType: string, opts: SendOptions = {}): Promise<SendResult> {
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = opts.signature ?? slackSignature(opts.secret ?? this.ctx.signingSecret, timestamp, body);
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
    return `${this.ctx.url}/respond/${randomUUID()}`;
  }

  /** A slash command, form-encoded as Slack posts it. */
  slashCommand(
    botUrl: string,
    c: { text: string; user: string; userName?: string; channel: string; channelName?: string; command?: string },
    opts?: SendOptions,
  ): Promise<SendResult> {
    const body = new URLSearchParams({
      token: "legacy-verification-token",
      team_id: this.ctx.teamId,
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
      team_id: this.ctx.teamId,
      context_team_id: this.ctx.teamId,
      api_app_id: "A0000001",
      event,
      type: "event_callback",
      event_id: opts.eventId ?? `Ev${randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: this.ctx.teamId, user_id: this.ctx.botUserId, is_bot: true, is_enterprise_install: false }],
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
  blockAction(
    botUrl: string,
    p: { user: string; userName?: string; actionId: string; value: string; channel: string; messageTs: string; threadTs?: string; text?: string },
    opts?: SendOptions,
  ): Promise<SendResult> {
    const payload = {
      type: "block_actions",
      user: { id: p.user, username: p.userName ?? p.user.toLowerCase(), name: p.userName ?? p.user.toLowerCase(), team_id: this.ctx.teamId },
      api_app_id: "A0000001",
      token: "legacy-verification-token",
      container: { type: "message", message_ts: p.messageTs, channel_id: p.channel, is_ephemeral: false, ...(p.threadTs ? { thread_ts: p.threadTs } : {}) },
      trigger_id: `${Date.now()}.1.${randomUUID().slice(0, 8)}`,
      team: { id: this.ctx.teamId, domain: "raptor-test" },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: p.channel, name: "general" },
      message: { type: "message", ts: p.messageTs, user: this.ctx.botUserId, bot_id: this.ctx.botId, text: "", ...(p.threadTs ? { thread_ts: p.threadTs } : {}) },
      state: { values: {} },
      response_url: this.responseUrl(),
      actions: [{ action_id: p.actionId, block_id: "b1", text: { type: "plain_text", text: p.text ?? p.actionId, emoji: true }, value: p.value, type: "button", action_ts: `${Date.now() / 1000}` }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.sendSigned(botUrl, body, "application/x-www-form-urlencoded", opts);
  }
}
