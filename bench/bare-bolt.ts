/**
 * bench/bare-bolt: the baseline for bench/ack.ts, a Bolt app over HTTP that only acks `/raptor`.
 * Same Bolt, same HTTPReceiver and signing secret as Raptor's bot, nothing else. Prints
 * `listening <port>` on stdout. Env: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, LogLevel } from "@slack/bolt";

const receiver = new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET!, endpoints: "/slack/events", processBeforeResponse: false, logLevel: LogLevel.ERROR });
const app = new App({
  token: process.env.SLACK_BOT_TOKEN!,
  receiver,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL! },
});
app.command("/raptor", async ({ ack }) => {
  await ack();
});
const server = (await app.start(0)) as Server;
process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
process.once("SIGTERM", () => void app.stop().then(() => process.exit(0)));
