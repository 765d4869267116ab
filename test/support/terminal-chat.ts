/**
 * `make run`'s terminal chat, driven from a test: the real REPL (bot/terminal.ts) on a pipe, with
 * what it prints collected, ready once it listens for what `raptor say` publishes elsewhere.
 */
import { PassThrough } from "node:stream";
import { Redis } from "ioredis";
import { vi } from "vitest";
import type { Actor, Authorizer } from "../../bot/dispatch-types.ts";
import { runRepl } from "../../bot/terminal.ts";
import { feedChannel } from "../../bot/terminal-feed.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import { REDIS_URL } from "./raptor-harness.ts";

export interface TerminalChat {
  /** Everything the chat printed so far, prompts and carriage returns included. */
  readonly printed: string;
  /**
   * The lines a person sees: each line is written over the prompt ("\r"), so only what follows the
   * last "\r" shows, and a prompt left at a line's start is not part of it.
   */
  lines(): string[];
  /** Ends the chat's input, waits for the REPL to return, and disconnects its Redis connections. */
  close(): Promise<void>;
}

/**
 * Starts the chat as `actor` on `engine` and resolves once it is subscribed to the terminal feed
 * (a `raptor say` published before then would not show). Waits up to 10 s for the subscription.
 */
export async function openTerminalChat(engine: EngineApiDeps, authorizer: Authorizer, actor: Actor): Promise<TerminalChat> {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = "";
  output.on("data", (d) => (printed += String(d)));
  const conns: Redis[] = [];
  const repl = runRepl({ engine, authorizer, connection: () => (conns.push(new Redis(REDIS_URL)), conns.at(-1)!) }, actor, { input, output });
  const probe = new Redis(REDIS_URL);
  await vi.waitUntil(async () => ((await probe.pubsub("NUMSUB", feedChannel(engine.prefix))) as [string, number])[1] > 0, { timeout: 10_000, interval: 50 });
  await probe.quit();
  return {
    get printed() {
      return printed;
    },
    lines: () => printed.split("\n").map((l) => l.slice(l.lastIndexOf("\r") + 1).replace(/^(raptor> )+/, "")),
    async close() {
      input.end();
      await repl;
      for (const c of conns) c.disconnect();
    },
  };
}
