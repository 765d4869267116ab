import type { ErrorCode } from "../lib/error-codes.ts";
/** Who typed a command. Slack fills id (U123), name, email and groups (user group handles). */
export interface Actor {
  id: string;
  name?: string;
  email?: string;
}

/** One command as it arrived from any chat adapter (Slack or terminal). */
export interface ChatRequest {
  text: string;
  actor: Actor;
  /** Channel id (C123) and name ("web", without #) when known; DMs have no binding. */
  channel?: { id: string; name?: string };
  /** Where the deployment's thread goes: "terminal" or "slack:<channel>:<thread_ts>". */
  origin: string;
}

/**
 * How an answer too long for one chat message is cut (Slack; the terminal prints it whole):
 * which end is kept, how to see the rest (a command to type), and whether the whole text is also
 * uploaded as a file (logs). Default: the head is kept, no file.
 */
export interface Overflow {
  keep: "head" | "tail";
  /** One sentence: how to see what was cut, e.g. "`logs hello local web 100` shows fewer lines per proc." */
  more?: string;
  /** Upload the whole text as a file beside the message (where the reply is visible to the channel). */
  file?: string;
}

export type Reply =
  /** The command was not understood; `text` says what was wrong and what would work. */
  | { kind: "parse_error"; text: string }
  /** Understood, but refused (access, lock, freeze, unknown id...). */
  | { kind: "refused"; code: ErrorCode; text: string; confirm?: string }
  /**
   * A query answered (help, apps, status, ...). `title` is a short heading. `verbatim`: the text is
   * app output or already terminal text (`logs`, `show`), printed by the terminal as it is.
   * `own`: Raptor's own text (`help`), nothing typed, stored or printed by an app in it, so it is
   * never passed through the secret redactor: someone who chose help's example value as a secret
   * made `help` show `API_TOKEN=[REDACTED]` in its own example (trial 2, M2).
   * `redacted`: the answer passed its free text (reasons, summaries, app output) through the
   * redactor itself, and the rest is Raptor's own words and checked names (`deploys`, `status`):
   * like `own`, dispatch and make run's chat do not redact the text again, so a secret equal to
   * `succeeded` cannot rewrite an outcome (red team 2 N4).
   */
  | { kind: "answer"; title: string; text: string; overflow?: Overflow; verbatim?: true; own?: true; redacted?: true }
  /** Work requested; the deployment's thread follows through engine events. */
  | { kind: "deployment"; deploymentId: string; text: string; since?: string }
  /** A decision recorded (approve, reject, cancel, lock, unlock). */
  | { kind: "done"; text: string; deploymentId?: string };

/**
 * Answers "may this actor do this?" for one access list from the playbook (user ids, emails,
 * "@group" handles). Slack resolves groups through its API; the terminal matches its user's name
 * (bot/terminal-access.ts).
 */
export interface Authorizer {
  allowed(actor: Actor, list: readonly string[]): Promise<boolean>;
  /** A sentence added to a refusal: who the actor is here and why the list did not match. */
  denied?(actor: Actor, list: readonly string[]): string;
}
