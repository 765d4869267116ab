/**
 * The bodies of Slack's requests to the bot: a slash command's fields, an Events API
 * `event_callback`, a `block_actions` payload. Over HTTP (sender.ts) they are form-encoded or
 * JSON-encoded and signed; in Socket Mode (socket-mode.ts) they ride in envelopes as JSON.
 */
import { randomUUID } from "node:crypto";

/** Who the payloads come from, and the fake that response_url points back to. */
export interface PayloadContext {
  teamId: string;
  /** `api_app_id`. */
  appId: string;
  botUserId: string;
  botId: string;
  /** Where the fake listens: response_url points there. */
  url: string;
}

export interface SlashCommand {
  text: string;
  user: string;
  userName?: string;
  channel: string;
  channelName?: string;
  command?: string;
}

export interface BlockAction {
  user: string;
  userName?: string;
  actionId: string;
  value: string;
  channel: string;
  messageTs: string;
  threadTs?: string;
  text?: string;
}

function responseUrl(ctx: PayloadContext): string {
  return `${ctx.url}/respond/${randomUUID()}`;
}

function triggerId(): string {
  return `${Date.now()}.1.${randomUUID().slice(0, 8)}`;
}

/** A slash command: the form fields Slack posts. */
export function slashCommandFields(ctx: PayloadContext, c: SlashCommand): Record<string, string> {
  return {
    token: "legacy-verification-token",
    team_id: ctx.teamId,
    team_domain: "raptor-test",
    channel_id: c.channel,
    channel_name: c.channelName ?? (c.channel.startsWith("D") ? "directmessage" : "general"),
    user_id: c.user,
    user_name: c.userName ?? c.user.toLowerCase(),
    command: c.command ?? "/raptor",
    text: c.text,
    api_app_id: ctx.appId,
    is_enterprise_install: "false",
    response_url: responseUrl(ctx),
    trigger_id: triggerId(),
  };
}

/** An Events API `event_callback` around `event`; the same eventId makes a redelivery. */
export function eventCallbackBody(ctx: PayloadContext, event: Record<string, unknown>, eventId?: string): Record<string, unknown> {
  return {
    token: "legacy-verification-token",
    team_id: ctx.teamId,
    context_team_id: ctx.teamId,
    api_app_id: ctx.appId,
    event,
    type: "event_callback",
    event_id: eventId ?? `Ev${randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: ctx.teamId, user_id: ctx.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${randomUUID()}`,
  };
}

/** A button press on a bot message: the `block_actions` payload. */
export function blockActionsPayload(ctx: PayloadContext, p: BlockAction): Record<string, unknown> {
  return {
    type: "block_actions",
    user: { id: p.user, username: p.userName ?? p.user.toLowerCase(), name: p.userName ?? p.user.toLowerCase(), team_id: ctx.teamId },
    api_app_id: ctx.appId,
    token: "legacy-verification-token",
    container: { type: "message", message_ts: p.messageTs, channel_id: p.channel, is_ephemeral: false, ...(p.threadTs ? { thread_ts: p.threadTs } : {}) },
    trigger_id: triggerId(),
    team: { id: ctx.teamId, domain: "raptor-test" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: p.channel, name: "general" },
    message: { type: "message", ts: p.messageTs, user: ctx.botUserId, bot_id: ctx.botId, text: "", ...(p.threadTs ? { thread_ts: p.threadTs } : {}) },
    state: { values: {} },
    response_url: responseUrl(ctx),
    actions: [{ action_id: p.actionId, block_id: "b1", text: { type: "plain_text", text: p.text ?? p.actionId, emoji: true }, value: p.value, type: "button", action_ts: `${Date.now() / 1000}` }],
  };
}
