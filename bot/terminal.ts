import { createInterface } from "node:readline";
import type { Redis } from "ioredis";
import { followDeployment } from "../engine/events.ts";
import type { EngineEvent } from "../engine/event-types.ts";
import { dispatch, type DispatchDeps } from "./dispatch.ts";
import type { Actor, Reply } from "./dispatch-types.ts";
import { terminalText, toPlain } from "./notify/markup.ts";
import { renderTerminal } from "./notify/terminal-lines.ts";
import { reduceThread, type ThreadState } from "./notify/thread.ts";
import { showControls } from "../lib/control-chars.ts";
import { lastKnownRedactor, redactorFor } from "../engine/redact.ts";
import { saidEcho, saidLines, saidReply, watchSaid, type Said } from "./terminal-feed.ts";
import { watchBeatReports } from "./terminal-news.ts";

/** Prints one line; thread lines come with the thread they belong to. */
export type Print = (line: string, thread?: ThreadState) => void;

/**
 * The terminal chat's one output sink (`make run`'s chat and `raptor say`): every line it prints
 * passes `showControls`, so no text of an app or a person (build output, a commit subject, a lock
 * reason) reaches the operator's terminal with its escape sequences or carriage returns working.
 * `overPrompt`: start with a carriage return, to write over a readline prompt already shown.
 */
export function terminalPrinter(out: NodeJS.WritableStream, opts: { overPrompt?: boolean } = {}): Print {
  return (line) => {
    out.write(`${opts.overPrompt ? "\r" : ""}${showControls(line)}\n`);
  };
}

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
  /** Threads whose lines wait (a command said elsewhere decides them: its echo and reply come first). */
  private readonly held = new Map<string, { lines: (() => void)[]; timer: NodeJS.Timeout }>();

  constructor(private readonly print: Print) {}

  /** Starts following `deploymentId`; returns the printer for its lines. */
  open(deploymentId: string): Print {
    this.active.add(deploymentId);
    if (this.active.size > 1) for (const id of this.active) this.tagged.add(id);
    return (line, thread) => {
      const out = () => this.print(this.tagged.has(deploymentId) ? `${threadTag(deploymentId, thread)} ${line}` : line, thread);
      const wait = this.held.get(deploymentId);
      if (wait) wait.lines.push(out);
      else out();
    };
  }

  /**
   * Holds `deploymentId`'s lines (followed now or later) until `release`, or `maxMs` at most (the
   * command's reply may never come: its `say` was killed).
   */
  hold(deploymentId: string, maxMs = 10_000): void {
    if (this.held.has(deploymentId)) return;
    const timer = setTimeout(() => this.release(deploymentId), maxMs);
    timer.unref?.();
    this.held.set(deploymentId, { lines: [], timer });
  }

  /** Prints what `deploymentId`'s thread said while held, in order, and its lines as they come from now on. */
  release(deploymentId: string): void {
    const wait = this.held.get(deploymentId);
    if (!wait) return;
    clearTimeout(wait.timer);
    this.held.delete(deploymentId);
    for (const out of wait.lines) out();
  }

  /** Stops following `deploymentId` (its final event was printed, or the follow ended). */
  close(deploymentId: string): void {
    this.active.delete(deploymentId);
    this.tagged.delete(deploymentId);
  }
}

/**
 * A reply as the terminal prints it: Raptor's texts carry markup for Slack (code spans, emphasis:
 * markup.ts), which the terminal shows as plain text; a verbatim answer (app output) is printed
 * as it is. Pure.
 */
export function replyLines(reply: Reply): string[] {
  switch (reply.kind) {
    case "parse_error":
    case "refused":
      return [`✗ ${terminalText(reply.text)}`];
    case "answer":
      return [terminalText(reply.title), ...(reply.verbatim ? toPlain(reply.text) : terminalText(reply.text)).split("\n")];
    case "deployment":
    case "done":
      return [terminalText(reply.text)];
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
  const print = terminalPrinter(io.output, { overPrompt: true });
  const followers = new AbortController();
  const following = new Set<string>();
  /** Every thread this chat has shown (followed), ended or not: a decision on one does not replay it. */
  const threadsShown = new Set<string>();
  const board = new ThreadBoard(print);
  const follow = (deploymentId: string, from?: string) => {
    if (following.has(deploymentId)) return;
    following.add(deploymentId);
    threadsShown.add(deploymentId);
    const conn = deps.connection();
    // Lines name their deployment while several run at once (ThreadBoard).
    void followThread(conn, deps.engine.prefix, deploymentId, board.open(deploymentId), { signal: followers.signal, from })
      .catch((err) => print(`(lost the thread of ${deploymentId}: ${(err as Error).message})`))
      .finally(() => {
        board.close(deploymentId);
        following.delete(deploymentId);
        conn.disconnect();
        rl.prompt();
      });
  };
  print(terminalText(`Raptor terminal chat. You are ${actor.id}. Type \`help\` for commands, \`exit\` to leave.`));
  // The beat's news (a timed lock released, a host down) shows here as in a Slack channel.
  const news = deps.connection();
  void watchBeatReports(news, deps.engine.prefix, (l) => (print(l), rl.prompt()), followers.signal)
    .catch((err) => {
      if (!followers.signal.aborted) print(`(the beat's news will not show here: ${(err as Error).message})`);
    })
    .finally(() => news.disconnect());
  // Commands run with `raptor say` elsewhere show here with their threads, as in a Slack channel.
  // Not awaited: readline is already reading, and lines typed (or piped) meanwhile must not be lost.
  // Masked again here with every secret Raptor knows (the command may name one that `say` did not
  // know as a secret); one at a time, so commands print in the order they were said.
  const feed = deps.connection();
  let shown = Promise.resolve();
  /** Commands said elsewhere whose echo is printed and whose reply is to come, by publishing pid. */
  const asked = new Map<number, Said>();
  void watchSaid(
    feed,
    deps.engine.prefix,
    (said) => {
      // A command about to decide a deployment (`approve d-…`): that thread's lines wait for the
      // command's echo and reply, as a channel shows a message before what it caused. Held at once,
      // before anything is awaited: the decision's event may be on its way already.
      if (said.phase === "asked") {
        if (said.deploymentId) board.hold(said.deploymentId);
        asked.set(said.pid, said);
      }
      shown = shown.then(async () => {
        const redact = await redactorFor(deps.engine).catch(() => lastKnownRedactor(deps.engine));
        const before = said.phase === "answered" ? asked.get(said.pid) : undefined;
        const lines = said.phase === "asked" ? [saidEcho(said)] : before ? saidReply(said) : saidLines(said);
        // The echo is typed text, always redacted; a reply of Raptor's own text (help) is not.
        const replyOwn = said.phase === "answered" && said.own;
        for (const [i, l] of lines.entries()) print(replyOwn && (before || i > 0) ? l : redact(l));
        if (said.phase === "answered") {
          asked.delete(said.pid);
          if (before?.deploymentId) board.release(before.deploymentId);
        }
        // A decision (approve, reject, cancel) on a thread shown here already: what it causes comes
        // on that thread; following it again from its start would print the head, the stale
        // "approve d-…" line and, once it ended, its verdict a second time (new-user trial, a reject).
        if (said.deploymentId && said.phase !== "asked" && (said.since !== undefined || !threadsShown.has(said.deploymentId))) follow(said.deploymentId, said.since);
        rl.prompt();
      });
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
  news.disconnect();
  rl.close();
}
