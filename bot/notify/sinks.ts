import type { ThreadSink } from "./consumer.ts";
import { renderTerminal } from "./terminal-lines.ts";

/** Prints the threads of deployments asked for from the terminal (origin "terminal"), line by line. */
export function terminalSink(print: (line: string) => void): ThreadSink {
  return {
    async deliver(state, event, prev) {
      if (state.origin !== "terminal") return;
      for (const line of renderTerminal(prev, state, event)) print(line);
    },
  };
}

/** One consumer, several sinks (e.g. Slack and terminal); each sink ignores origins not its own. */
export function fanOut(...sinks: ThreadSink[]): ThreadSink {
  return {
    async deliver(state, event, prev) {
      for (const s of sinks) await s.deliver(state, event, prev);
    },
  };
}
