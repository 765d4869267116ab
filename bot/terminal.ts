import { createInterface } from "node:readline";
import type { Redis } from "ioredis";
import { followDeployment } from "../engine/events.ts";
import type { EngineEvent } from "../engine/event-types.ts";
import { dispatch, type DispatchDeps } from "./dispatch.ts";
import type { Actor, Reply } from "./dispatch-types.ts";
import { renderTerminal } from "./notify/terminal-lines.ts";
import { reduceThread, type ThreadState } from "./notify/thread.ts";

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
  print(`Raptor terminal chat. You are ${actor.id}. Type \`help\` for commands, \`exit\` to leave.`);
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
          void followThread(conn, deps.engine.prefix, reply.deploymentId, print, { signal: followers.signal, from: reply.since })
            .catch((err) => print(`(lost the thread of ${reply.deploymentId}: ${(err as Error).message})`))
            .finally(() => {
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
  rl.close();
}
