import type { Actor, Authorizer } from "./dispatch-types.ts";

/**
 * Access lists checked for the terminal's actor: `$RAPTOR_USER`, else the OS user who runs
 * `bin/raptor` (bin/chat.ts, bin/raptor.ts). The terminal trusts that name as given: whoever can
 * run Raptor on its machine can read its DATABASE_URL and act without it, so the check applies the
 * team's policy to the terminal as to Slack, but is no barrier against someone with a shell there
 * (README, "Who the terminal trusts").
 *
 * An entry matches when it is `*`, the actor's name exactly, or an email equal to the name
 * (case-insensitive; `RAPTOR_USER=ann@example.com`). `@group` entries are Slack user groups: the
 * terminal has no Slack to ask, so they match no one here (failing closed, as the Slack
 * authorizer does when Slack cannot answer). An empty list allows anyone.
 */
export const terminalAuthorizer: Authorizer = {
  async allowed(actor: Actor, list: readonly string[]): Promise<boolean> {
    if (list.length === 0) return true;
    const me = actor.id.trim();
    return list.some((raw) => {
      const e = raw.trim();
      if (e === "*" || e === me) return true;
      return !e.startsWith("@") && e.includes("@") && e.toLowerCase() === me.toLowerCase();
    });
  },
  denied(actor: Actor, list: readonly string[]): string {
    const groups = list.filter((e) => e.trim().startsWith("@"));
    const why = groups.length ? ` ${groups.join(", ")} ${groups.length === 1 ? "is a Slack user group" : "are Slack user groups"}, which the terminal cannot look up.` : "";
    return `In the terminal you are ${actor.id} (RAPTOR_USER, else your OS user).${why}`;
  },
};
