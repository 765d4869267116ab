import type { WebClient } from "@slack/web-api";
import { errorFields, silentLogger, type Logger } from "../../lib/logger.ts";

/**
 * Cached look-ups of users, channels and user groups. Entries live `ttlMs` (default 5 minutes);
 * concurrent look-ups of one key share a request; failures are not cached.
 */

export interface DirectoryUser {
  id: string;
  name?: string;
  email?: string;
  isBot?: boolean;
}

class TtlCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}
  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    this.entries.set(key, { at: this.now(), value });
    value.catch(() => this.entries.delete(key));
    return value;
  }
}

export interface SlackDirectoryOptions {
  client: WebClient;
  /** How long answers are kept. Default 300 000 ms (5 minutes). */
  ttlMs?: number;
  now?: () => number;
  log?: Logger;
}

export class SlackDirectory {
  private readonly users: TtlCache<DirectoryUser | undefined>;
  private readonly channels: TtlCache<string | undefined>;
  private readonly groups: TtlCache<Map<string, string>>;
  private readonly members: TtlCache<Set<string>>;
  private readonly client: WebClient;
  private readonly log: Logger;

  constructor(opts: SlackDirectoryOptions) {
    const ttl = opts.ttlMs ?? 300_000;
    const now = opts.now ?? Date.now;
    this.client = opts.client;
    this.log = opts.log ?? silentLogger;
    this.users = new TtlCache(ttl, now);
    this.channels = new TtlCache(ttl, now);
    this.groups = new TtlCache(ttl, now);
    this.members = new TtlCache(ttl, now);
  }

  /** users.info; undefined when Slack does not know the user. */
  user(id: string): Promise<DirectoryUser | undefined> {
    return this.users.get(id, async () => {
      const res = await this.client.users.info({ user: id });
      const u = res.user;
      if (!u?.id) return undefined;
      const name = u.profile?.display_name || u.name || u.real_name;
      return { id: u.id, ...(name ? { name } : {}), ...(u.profile?.email ? { email: u.profile.email } : {}), isBot: u.is_bot ?? false };
    });
  }

  /** The channel's name (without #), for playbook channel bindings. */
  channelName(id: string): Promise<string | undefined> {
    return this.channels.get(id, async () => {
      const res = await this.client.conversations.info({ channel: id });
      return res.channel?.name;
    });
  }

  /** Member ids of the user group with this handle ("deployers", no @); undefined if there is none. */
  async usergroupMembers(handle: string): Promise<Set<string> | undefined> {
    const byHandle = await this.groups.get("all", async () => {
      const res = await this.client.usergroups.list({ include_disabled: false });
      return new Map((res.usergroups ?? []).flatMap((g) => (g.handle && g.id ? [[g.handle.toLowerCase(), g.id] as const] : [])));
    });
    const id = byHandle.get(handle.toLowerCase());
    if (!id) {
      this.log.warn({ handle }, "no Slack user group with this handle");
      return undefined;
    }
    return this.members.get(id, async () => new Set((await this.client.usergroups.users.list({ usergroup: id })).users ?? []));
  }

  /** Like `user`, but a failure is logged and answered with what is known. */
  async actor(id: string, name?: string): Promise<DirectoryUser> {
    try {
      const u = await this.user(id);
      return { id, ...(u?.name || name ? { name: u?.name ?? name } : {}), ...(u?.email ? { email: u.email } : {}) };
    } catch (err) {
      this.log.warn({ user: id, ...errorFields(err) }, "users.info failed");
      return { id, ...(name ? { name } : {}) };
    }
  }
}
