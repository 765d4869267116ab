import { createInterface } from "node:readline";
import type { Redis } from "ioredis";
import { followDeployment } from "../engine/events.ts";
import type { EngineEvent } from "../engine/event-types.ts";
import { dispatch, type DispatchDeps } from "./dispatch.ts";
import type { Actor, Reply } from "./dispatch-types.ts";
import { toPlain } from "./notify/markup.ts";
import { renderTerminal } from "./notify/terminal-lines.ts";
import { reduceThread, type ThreadState } from "./notify/thread.ts";
import { watchBeatReports } from "./terminal-news.ts";

/** Prints one line; thread lines come with the thread they belong to. */
export type Print = (line: string, thread?: ThreadState) => void;

/** `[d-k3j9x2ab hello local]`: which deployment a line belongs to. */
export function threadTag(deploymentId: string, thread?: Pick<ThreadState, "app" | "env">): string {
  return `[${deploymentId}${thread?.app ? ` ${thread.app} ${thread.env}` : ""}]`;
}

/**
 * The threads the terminal is following at once. While one runs alone its lines print as they
 * are; once two or more run together, every line of each names its deployment, and keeps doing
 * so until that deployment ends (a line that was tagged once is never left to guess after).
 */
export class ThreadBoard {
  private readonly active = new Set<string>();
  private readonly tagged = new Set<string>();

  constructor(private readonly print: Print) {}

  /** Starts following `deploymentId`; returns the printer for its lines. */
  open(deploymentId: string): Print {
    this.active.add(deploymentId);
    if (this.active.size > 1) for (const id of this.active) this.tagged.add(id);
    return (line, thread) => this.print(this.tagged.has(deploymentId) ? `${threadTag(deploymentId, thread)} ${line}` : line, thread);
  }

  /** Stops following `deploymentId` (its final event was printed, or the follow ended). */
  close(deploymentId: string): void {
    this.active.delete(deploymentId);
    this.tagged.delete(deploymentId);
  }
}

export function replyLines(reply: Reply): string[] {
  switch (reply.kind) {
    case "parse_error":
      return [`✗ ${reply.text}`];
    case "refused":
      return [`✗ ${reply.text}`];
    case "answer":
      // Answers carry emphasis for Slack (markup.ts); the terminal shows plain text.
      return [toPlain(reply.title), ...toPlain(reply.text).split("\n")];
    case "deployment":
    case "done":
      return [reply.text];
  }
}

/**
 * Prints one deployment's thread as it happens, the same thread a Slack user sees, and resolves
 * with the final event. `conn` is a dedicated Redis connection (blocking reads).
 */
export async function followThread(conn: Redis, prefix: string, deploymentId: string, print: Print, opts: { signal?: AbortSignal; from?: string } = {}): Promise<EngineEvent | undefined> {
  let state: ThreadState | undefined;
  return followDeployment(
    conn,
    prefix,
    deploymentId,
    (e) => {
      const next = reduceThread(state, e);
      for (const line of renderTerminal(state, next, e)) print(line, next);
      state = next;
    },
    opts,
  );
}

/**
 * The REPL: read a command, dispatch it as the local user, print the reply; a deployment's
 * thread keeps printing while the next command is typed.
 */
export async function runRepl(
  deps: DispatchDeps & { connection(): Redis },
  actor: Actor,
  io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; /** Ends the chat (SIGTERM), as `exit` does. */ signal?: AbortSignal },
): Promise<void> {
  const rl = createInterface({ input: io.input, output: io.output, prompt: "raptor> ", terminal: (io.output as { isTTY?: boolean }).isTTY ?? false });
  io.signal?.addEventListener("abort", () => rl.close(), { once: true });
  const print: Print = (line) => {
    io.output.write(`\r${line}\n`);
  };
  const followers = new AbortController();
  const board = new ThreadBoard(print);
  print(`Raptor terminal chat. You are ${actor.id}. Type \`help\` for commands, \`exit\` to leave.`);
  // The beat's news (a timed lock released, a host down) shows here as in a Slack channel.
  const news = deps.connection();
  void watchBeatReports(news, deps.engine.prefix, (l) => (print(l), rl.prompt()), followers.signal)
    .catch((err) => {
      if (!followers.signal.aborted) print(`(the beat's news will not show here: ${(err as Error).message})`);
    })
    .finally(() => news.disconnect());
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === "exit" || text === "quit") break;
    if (text) {
      try {
        const reply = await dispatch(deps, { text, actor, origin: "terminal" });
        for (const l of replyLines(reply)) print(l);
        if (reply.kind === "deployment") {
          const conn = deps.connection();
          const id = reply.deploymentId;
          const printLine = board.open(id);
          void followThread(conn, deps.engine.prefix, id, printLine, { signal: followers.signal, from: reply.since })
            .catch((err) => print(`(lost the thread of ${id}: ${(err as Error).message})`))
            .finally(() => {
              board.close(id);
              conn.disconnect();
              rl.prompt();
            });
        }
      } catch (err) {
        print(`✗ internal error: ${(err as Error).message}`);
      }
    }
    rl.prompt();
  }
  followers.abort();
  news.disconnect();
  rl.close();
}
