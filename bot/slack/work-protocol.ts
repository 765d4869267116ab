import type { HealthReport } from "../../lib/observe-http.ts";
import type { CommandJob } from "./command-job.ts";

/**
 * The messages between the Slack bot's acking thread and its command thread
 * (bot/slack/work-thread.ts, bin/slack-command-thread.ts). Plain data only: they cross postMessage.
 */

/** Acking thread -> command thread. */
export type ToWork =
  /** Answer this admitted command; say `answered` with its id once its reply is sent. */
  | { type: "command"; id: number; job: CommandJob }
  /** This thread's metrics in Prometheus text (the engine's; the acking thread adds its own). */
  | { type: "metrics"; id: number }
  /** Redis and Postgres as this thread's clients see them. */
  | { type: "health"; id: number }
  /** Finish: stop reading events, flush threads, close the clients, then say `stopped`. */
  | { type: "stop" };

/** Command thread -> acking thread. */
export type FromWork =
  /** A start-up phase, for bin/progress.ts lines. */
  | { type: "progress"; phase: string }
  /** Clients open, the event consumer running: commands may come. */
  | { type: "ready" }
  /** Start-up failed; `message` is for the operator (one line when it is their mistake). */
  | { type: "failed"; message: string; oneLine: boolean }
  | { type: "answered"; id: number }
  | { type: "metrics"; id: number; text: string }
  | { type: "health"; id: number; report: HealthReport }
  | { type: "stopped" };
