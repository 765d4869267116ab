/**
 * The terminal's "channel": what `raptor say` runs reaches every terminal chat open on the same
 * Raptor (the `make run` one), as a Slack channel shows everyone a command and its thread. `say`
 * publishes the command and its reply on a Redis pub/sub channel; each terminal chat prints them
 * and follows the deployment's thread. Pub/sub, not the event stream: a command is news for the
 * chats open now, and nothing of it is kept. The text is published with its secret values masked.
 */
import type { Redis } from "ioredis";

export const feedChannel = (prefix: string) => `${prefix}terminal:said`;

/** One command run by `raptor say`, as the other terminals see it. */
export interface Said {
  /** Who ran it (RAPTOR_USER or the login name). */
  actor: string;
  /** The command as typed, secrets masked (command-log.ts `maskCommandText`). */
  text: string;
  /** The reply's lines, as `say` printed them. */
  lines: string[];
  /** The deployment it started or decided, whose thread the terminals follow. */
  deploymentId?: string;
  /** The event stream id to follow the thread from (just before its queued event). */
  since?: string;
  /** The publishing process, so a chat never repeats its own commands. */
  pid: number;
  /**
   * `asked`: published before the command runs (no lines yet; `deploymentId` is the one it names,
   * `approve d-…`), so its echo comes before what it causes in that thread. `answered`: the reply,
   * after it ran. Absent: both at once (a `say` of before this split).
   */
  phase?: "asked" | "answered";
  /** The reply is Raptor's own text (`help`): its lines are printed without the redactor. */
  own?: true;
}

/** What a terminal chat prints for a command another terminal ran: who and what, then the reply. Pure. */
export function saidLines(s: Said): string[] {
  return [saidEcho(s), ...saidReply(s)];
}

/** The echo of a command said elsewhere: `── alice (raptor say): approve d-k3j9x2ab`. Pure. */
export function saidEcho(s: Pick<Said, "actor" | "text">): string {
  return `── ${s.actor} (raptor say): ${s.text}`;
}

/** The reply lines of a command said elsewhere, indented under its echo. Pure. */
export function saidReply(s: Pick<Said, "lines">): string[] {
  return s.lines.map((l) => `   ${l}`);
}

/** Publishes one command and its reply; never fails the command (no chat listening is fine). */
export async function publishSaid(redis: Redis, prefix: string, said: Said): Promise<void> {
  await redis.publish(feedChannel(prefix), JSON.stringify(said)).catch(() => 0);
}

/**
 * Calls `onSaid` for every command other processes publish, until `signal` aborts. `conn` is a
 * dedicated connection (a subscribed connection can do nothing else); the caller closes it.
 */
export async function watchSaid(conn: Redis, prefix: string, onSaid: (s: Said) => void, signal: AbortSignal): Promise<void> {
  const channel = feedChannel(prefix);
  conn.on("message", (ch: string, message: string) => {
    if (ch !== channel) return;
    let said: Said;
    try {
      said = JSON.parse(message) as Said;
    } catch {
      return;
    }
    if (said.pid === process.pid || !Array.isArray(said.lines)) return;
    onSaid(said);
  });
  await conn.subscribe(channel);
  signal.addEventListener("abort", () => void conn.unsubscribe(channel).catch(() => undefined), { once: true });
}
