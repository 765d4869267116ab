import { createInterface } from "node:readline";
import type { Redis } from "ioredis";
import { followDeployment } from "../engine/events.ts";
import type { EngineEvent } from "../engine/event-types.ts";
import { dispatch, type DispatchDeps } from "./dispatch.ts";
import type { Actor, Reply } from "./dispatch-types.ts";
import { renderTerminal } from "./notify/terminal-lines.ts";
import { reduceThread, type ThreadState } from "./notify/thread.ts";
import { saidLines, watchSaid } from "./terminal-feed.ts";

export type Print = (line: string) => void;

export function replyLines(reply: Reply): string[] {
  switch (reply.kind) {
    case "parse_error":
      return [`✗ ${reply.text}`];
    case "refused":
      return [`✗ ${reply.text}`];
    case "answer":
      return [reply.title, ...reply.text.split("\n")];
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
      for (const line of renderTerminal(state, next, e)) print(line);
      state = next;
    },
    opts,
  );
}

/**
 * The REPL: read a command, dispatch it as the local user, print the reply; a deployment's
 * thread keeps printing while the next command is typed. Commands `raptor say` runs elsewhere on
 * the same Raptor show too, with their threads (terminal-feed.ts).
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
  const following = new Set<string>();
  const follow = (deploymentId: string, from?: string) => {
    if (following.has(deploymentId)) return;
    following.add(deploymentId);
    const conn = deps.connection();
    void followThread(conn, deps.engine.prefix, deploymentId, print, { signal: followers.signal, from })
      .catch((err) => print(`(lost the thread of ${deploymentId}: ${(err as Error).message})`))
      .finally(() => {
        following.delete(deploymentId);
        conn.disconnect();
        rl.prompt();
      });
  };
  print(`Raptor terminal chat. You are ${actor.id}. Type \`help\` for commands, \`exit\` to leave.`);
  // Commands run with `raptor say` elsewhere show here with their threads, as in a Slack channel.
  // Not awaited: readline is already reading, and lines typed (or piped) meanwhile must not be lost.
  const feed = deps.connection();
  void watchSaid(
    feed,
    deps.engine.prefix,
    (said) => {
      for (const l of saidLines(said)) print(l);
      if (said.deploymentId) follow(said.deploymentId, said.since);
      rl.prompt();
    },
    followers.signal,
  ).catch((err) => print(`(commands from raptor say will not show here: ${(err as Error).message})`));
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === "exit" || text === "quit") break;
    if (text) {
      try {
        const reply = await dispatch(deps, { text, actor, origin: "terminal" });
        for (const l of replyLines(reply)) print(l);
        if (reply.kind === "deployment") follow(reply.deploymentId, reply.since);
      } catch (err) {
        print(`✗ internal error: ${(err as Error).message}`);
      }
    }
    rl.prompt();
  }
  followers.abort();
  feed.disconnect();
  rl.close();
}
