import type { Actor, Authorizer } from "../dispatch-types.ts";
import { errorFields, silentLogger, type Logger } from "../../lib/logger.ts";
import type { SlackDirectory } from "./directory.ts";

/**
 * Access lists from the playbook, checked against Slack: entries are user ids (`U123`), emails
 * (matched against the user's Slack profile), `@handle` user groups, or `*`. An empty list allows
 * anyone. Look-ups are cached by the directory (5 minutes by default). When Slack cannot be asked,
 * the entry does not match: access fails closed.
 */
export class SlackAuthorizer implements Authorizer {
  constructor(
    private readonly directory: SlackDirectory,
    private readonly log: Logger = silentLogger,
  ) {}

  async allowed(actor: Actor, list: readonly string[]): Promise<boolean> {
    if (list.length === 0) return true;
    const entries = list.map((e) => e.trim()).filter((e) => e.length > 0);
    // Cheapest first: ids need no API call, emails one users.info, groups up to two calls.
    if (entries.some((e) => e === "*" || e === actor.id)) return true;
    const emails = entries.filter((e) => !e.startsWith("@") && e.includes("@")).map((e) => e.toLowerCase());
    if (emails.length > 0) {
      const email = (actor.email ?? (await this.safely(() => this.directory.user(actor.id), actor))?.email)?.toLowerCase();
      if (email && emails.includes(email)) return true;
    }
    for (const e of entries.filter((x) => x.startsWith("@"))) {
      const members = await this.safely(() => this.directory.usergroupMembers(e.slice(1)), actor);
      if (members?.has(actor.id)) return true;
    }
    return false;
  }

  private async safely<T>(f: () => Promise<T>, actor: Actor): Promise<T | undefined> {
    try {
      return await f();
    } catch (err) {
      this.log.warn({ user: actor.id, ...errorFields(err) }, "Slack look-up for an access check failed; denying that entry");
      return undefined;
    }
  }
}
