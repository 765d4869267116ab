/**
 * The Slack bot's command thread (a worker_threads module; bot/slack/work-thread.ts starts it):
 * Raptor's runtime (database, Redis, queues), the Slack directory and Web API client, and the
 * chat work: commands answered, deployment threads written. The main thread only acks.
 * workerData: ChatThreadData. Messages: bot/slack/work-protocol.ts.
 */
import { parentPort, workerData } from "node:worker_threads";
import { checkHealth } from "../engine/observe.ts";
import { PlaybookError } from "../playbooks/load.ts";
import { SlackAuthorizer } from "../bot/slack/authorizer.ts";
import { createChatWork } from "../bot/slack/chat-work.ts";
import { slackWebClient } from "../bot/slack/client.ts";
import { SlackDirectory } from "../bot/slack/directory.ts";
import type { FromWork, ToWork } from "../bot/slack/work-protocol.ts";
import { errorFields } from "../lib/logger.ts";
import { lowerThisThreadPriority } from "../lib/thread-priority.ts";
import { configFromEnv } from "./config.ts";
import { createRuntime, type Runtime } from "./runtime.ts";

export interface ChatThreadData {
  botToken: string;
  /** Nice steps this thread runs below the acking thread (0: the same priority). */
  niceIncrement: number;
  slackApiUrl?: string;
  /** Consumer name in the bot's Redis consumer group. */
  consumer?: string;
}

const port = parentPort!;
const data = workerData as ChatThreadData;
const send = (m: FromWork) => port.postMessage(m);

async function main(): Promise<void> {
  // When both threads want the CPU, the ack wins: Slack gives up on an ack after 3 s, while an
  // answer a few milliseconds later is not noticed (issue 14 item 4; figures in bench/README.md).
  const nice = data.niceIncrement > 0 ? lowerThisThreadPriority(data.niceIncrement) : undefined;
  let rt: Runtime;
  try {
    // The acking thread serves the process metrics and the ack ones (bin/slack-ack-thread.ts).
    rt = await createRuntime(configFromEnv(), undefined, (phase) => send({ type: "progress", phase }), { processMetrics: false, chatMetrics: false });
  } catch (err) {
    const oneLine = err instanceof PlaybookError || (err instanceof Error && err.name === "SecretKeyError");
    const message = err instanceof PlaybookError ? `the playbooks have mistakes:\n${err.message}` : err instanceof Error ? (oneLine ? err.message : (err.stack ?? err.message)) : String(err);
    send({ type: "failed", message, oneLine });
    process.exit(1);
  }
  const log = rt.engine.logger;
  if (nice !== undefined) log.info({ nice }, "the command thread runs at a lower CPU priority than the acking thread");
  const client = slackWebClient(data.botToken, data.slackApiUrl, log);
  const directory = new SlackDirectory({ client, log });
  const authorizer = new SlackAuthorizer(directory, log);
  const work = createChatWork(rt.engine, rt.redisConnection(), { client, directory, authorizer, ...(data.consumer ? { consumer: data.consumer } : {}), log });
  await work.start();

  port.on("message", (m: ToWork) => {
    switch (m.type) {
      case "command":
        // answerCommand should never throw (a failed dispatch is answered as an internal error); if
        // it does anyway, that one command fails and is logged, and the thread, with every other
        // command in flight, lives on (redteam2 N5).
        void work.answerer
          .answer(m.job)
          .catch((err: unknown) => log.error({ ...errorFields(err) }, "answering a command failed"))
          .finally(() => send({ type: "answered", id: m.id }));
        return;
      case "metrics":
        rt.engine.metrics!.registry.metrics().then(
          (text) => send({ type: "metrics", id: m.id, text }),
          (err) => {
            log.warn(errorFields(err), "could not render the command thread's metrics");
            send({ type: "metrics", id: m.id, text: "" });
          },
        );
        return;
      case "health":
        void checkHealth({ redis: rt.engine.redis, db: rt.engine.db }).then((report) => send({ type: "health", id: m.id, report }));
        return;
      case "stop":
        void (async () => {
          await work.stop();
          await rt.close();
          send({ type: "stopped" });
          // As the main thread ends with process.exit: whatever else holds the loop (the
          // playbook watcher) must not keep the bot from stopping. In a worker, this ends the thread.
          process.exit(0);
        })();
        return;
      default: {
        const never: never = m;
        log.warn({ message: JSON.stringify(never) }, "unknown message to the command thread");
      }
    }
  });
  send({ type: "ready" });
}

void main();
