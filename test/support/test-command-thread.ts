/**
 * A command thread for tests of bot/slack/work-thread.ts (the protocol of bin/slack-command-thread.ts
 * without the engine): it answers every command on its response_url with "answered: <text>",
 * except `crash` (the thread dies with an uncaught error while answering) and `spin <ms>` (its
 * event loop is held that long before the answer, like a command whose work is all CPU).
 */
import { parentPort } from "node:worker_threads";
import { respondTo } from "../../bot/slack/command-job.ts";
import type { FromWork, ToWork } from "../../bot/slack/work-protocol.ts";

const port = parentPort!;
const send = (m: FromWork) => port.postMessage(m);

port.on("message", (m: ToWork) => {
  switch (m.type) {
    case "command": {
      const text = m.job.text.trim();
      if (text === "crash") throw new Error("test thread: crash on request");
      const spin = /^spin (\d+)$/.exec(text);
      if (spin) {
        const until = Date.now() + Number(spin[1]);
        while (Date.now() < until) {
          // all CPU, no await: nothing else runs in this thread meanwhile
        }
      }
      const respond = respondTo(m.job.reply.responseUrl!);
      void respond({ response_type: "ephemeral", text: `answered: ${text}` }).finally(() => send({ type: "answered", id: m.id }));
      return;
    }
    case "metrics":
      send({ type: "metrics", id: m.id, text: "test_thread_up 1\n" });
      return;
    case "health":
      send({ type: "health", id: m.id, report: { ok: true, redis: "ok", postgres: "ok" } });
      return;
    case "stop":
      send({ type: "stopped" });
      process.exit(0);
  }
});
send({ type: "ready" });
