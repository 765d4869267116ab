import { userInfo } from "node:os";
import { localAuthorizer, runRepl } from "../bot/terminal.ts";
import type { Runtime } from "./runtime.ts";

/**
 * The chat side of `raptor bot` / `raptor all`: Slack when SLACK_BOT_TOKEN is set, otherwise the
 * terminal chat on stdin/stdout (the embedded default).
 */
export async function startChat(rt: Runtime, _shutdown: (() => Promise<void> | void)[]): Promise<void> {
  const actor = { id: process.env.RAPTOR_USER ?? userInfo().username };
  await runRepl({ engine: rt.engine, authorizer: localAuthorizer, connection: () => rt.redisConnection() }, actor, { input: process.stdin, output: process.stdout });
}
