/**
 * The Web API side of the fake Slack: the workspace its methods read and write (messages, users,
 * usergroups, channels, uploads) and Slack's answers to the methods Raptor calls, with the Block
 * Kit limits Slack enforces.
 */
import type { IncomingMessage } from "node:http";

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  /** Set for chat.postEphemeral: the only user who sees it. */
  ephemeralTo?: string;
  /** Slack cut the text at 40,000 characters (it answered with a `message_truncated` warning). */
  truncated?: boolean;
  edits: number;
  /** Message metadata (`{ event_type, event_payload }`) as posted; returned with include_all_metadata. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
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

const JSON_FIELDS = new Set(["blocks", "attachments", "files", "file_uploads", "metadata", "usergroups"]);

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Web API arguments from a form-encoded (JSON-valued fields parsed), multipart or JSON body. */
export async function parseArgs(req: IncomingMessage, raw: Buffer): Promise<Record<string, unknown>> {
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

/** All text a message's blocks carry (section and context text, button text and values). */
export function blocksTextLength(blocks: unknown): number {
  if (!Array.isArray(blocks)) return 0;
  let n = 0;
  for (const b of blocks as Record<string, any>[]) {
    if (typeof b.text?.text === "string") n += b.text.text.length;
    for (const e of Array.isArray(b.elements) ? b.elements : []) {
      if (typeof e.text === "string") n += e.text.length;
      if (typeof e.text?.text === "string") n += e.text.text.length;
      if (typeof e.value === "string") n += e.value.length;
    }
  }
  return n;
}

/**
 * Slack's size limits on a whole message, as Slack answers them: blocks whose text together
 * passes 12,000 characters are refused with `msg_blocks_too_long` (slackapi/bolt-js#2509; Slack
 * does not publish the exact edge); a `text` over 40,000 characters is truncated with a
 * `message_truncated` warning by chat.postMessage and refused with `msg_too_long` by chat.update
 * (api.slack.com/changelog/2018-04-truncating-really-long-messages).
 */
export const MESSAGE_SIZE = { blocksText: 12_000, text: 40_000 } as const;

/** What the fake Web API serves; FakeSlack puts it on HTTP. */
export class FakeWorkspace {
  readonly messages: FakeMessage[] = [];
  readonly users = new Map<string, FakeUser>();
  readonly usergroups: FakeUsergroup[] = [];
  readonly channels = new Map<string, { id: string; name: string; is_im?: boolean }>();
  readonly uploads = new Map<string, { filename: string; length: number; content?: string }>();
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  private seq = 0;

  /** `url`: where the fake listens (upload URLs point there). */
  constructor(
    readonly url: string,
    ids: { botUserId?: string; botId?: string; teamId?: string },
  ) {
    this.botUserId = ids.botUserId ?? "UBOT0001";
    this.botId = ids.botId ?? "BBOT0001";
    this.teamId = ids.teamId ?? "T0000001";
  }

  addUser(u: FakeUser): void {
    this.users.set(u.id, u);
  }

  /** Top-level messages and replies posted (not ephemeral) in a thread, head first. */
  thread(channel: string, ts: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && !m.ephemeralTo && (m.ts === ts || m.thread_ts === ts));
  }

  /** A fresh message ts, `1700000000+n.00000n`. */
  protected nextTs(): string {
    this.seq++;
    return `${1_700_000_000 + this.seq}.${String(this.seq).padStart(6, "0")}`;
  }

  /** The Web API methods Raptor uses, with Slack's answers. */
  protected answer(method: string, a: Record<string, any>): Record<string, unknown> {
    const ok = (x: Record<string, unknown> = {}) => ({ ok: true, ...x });
    const fail = (error: string, x: Record<string, unknown> = {}) => ({ ok: false, error, ...x });
    const checkMessage = () => {
      if (!a.channel) return fail("channel_not_found");
      if (!a.text && !a.blocks) return fail("no_text");
      if (a.blocks !== undefined) {
        const problems = blockProblems(a.blocks);
        if (problems.length > 0) return fail("invalid_blocks", { errors: problems });
        if (blocksTextLength(a.blocks) > MESSAGE_SIZE.blocksText) return fail("msg_blocks_too_long");
      }
      if (method === "chat.update" && typeof a.text === "string" && a.text.length > MESSAGE_SIZE.text) return fail("msg_too_long");
      return undefined;
    };
    // chat.postMessage and chat.postEphemeral keep the first 40,000 characters and warn.
    const long = typeof a.text === "string" && a.text.length > MESSAGE_SIZE.text;
    const warned = (x: Record<string, unknown>) => (long ? { ...x, warning: "message_truncated", response_metadata: { warnings: ["message_truncated"] } } : x);
    const text = long ? (a.text as string).slice(0, MESSAGE_SIZE.text) : a.text;
    switch (method) {
      case "auth.test":
        return ok({ url: "https://raptor-test.slack.com/", team: "Raptor Test", user: "raptor", team_id: this.teamId, user_id: this.botUserId, bot_id: this.botId });
      case "chat.postMessage": {
        const bad = checkMessage();
        if (bad) return bad;
        const m: FakeMessage = { channel: a.channel, ts: this.nextTs(), text, blocks: a.blocks, edits: 0, ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}), ...(long ? { truncated: true } : {}), ...(a.metadata ? { metadata: a.metadata } : {}) };
        this.messages.push(m);
        return ok(warned({ channel: m.channel, ts: m.ts, message: { type: "message", text: m.text, user: this.botUserId, bot_id: this.botId, ts: m.ts, blocks: m.blocks, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) } }));
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
        const m: FakeMessage = { channel: a.channel, ts: this.nextTs(), text, blocks: a.blocks, ephemeralTo: a.user, edits: 0, ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}), ...(long ? { truncated: true } : {}) };
        this.messages.push(m);
        return ok(warned({ message_ts: m.ts }));
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
      case "conversations.replies":
      case "conversations.history": {
        // Newest first for history, oldest first for replies, as Slack orders them; metadata only when asked.
        if (!this.channels.has(a.channel) && !this.messages.some((m) => m.channel === a.channel)) return fail("channel_not_found");
        const wanted = this.messages.filter((m) => m.channel === a.channel && !m.ephemeralTo && (method === "conversations.replies" ? m.ts === a.ts || m.thread_ts === a.ts : !m.thread_ts));
        const all = String(a.include_all_metadata) === "true";
        const shape = (m: FakeMessage) => ({ type: "message", user: this.botUserId, bot_id: this.botId, ts: m.ts, text: m.text, blocks: m.blocks, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}), ...(all && m.metadata ? { metadata: m.metadata } : {}) });
        const list = method === "conversations.history" ? [...wanted].reverse() : wanted;
        return ok({ messages: list.slice(0, Number(a.limit ?? 1000)).map(shape), has_more: false });
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
}
