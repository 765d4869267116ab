/**
 * bench/fake-slack-process: the fake Slack (test/support/fake-slack.ts) in a process of its own, so
 * the load generator's busy event loop does not slow down the answers the bot sends to it. Prints
 * `url <base url>`; over IPC, answers "stats" with how many response_url posts it received and
 * when the last one came (ms since the epoch). Env: BENCH_USERS (Slack users U0BENCH00..), BENCH_CHANNEL.
 */
import { FakeSlack } from "../test/support/fake-slack.ts";

const fake = await FakeSlack.start({ signingSecret: process.env.SLACK_SIGNING_SECRET!, botToken: process.env.SLACK_BOT_TOKEN! });
fake.channels.set(process.env.BENCH_CHANNEL!, { id: process.env.BENCH_CHANNEL!, name: "bench" });
for (let i = 0; i < Number(process.env.BENCH_USERS ?? 50); i++) fake.addUser({ id: `U0BENCH${String(i).padStart(2, "0")}`, name: `person${i}`, email: `person${i}@example.com` });
let answers = 0;
let lastAt = 0;
let lastText = "";
// Counted as they come, and the recorded calls dropped: 20,000 bodies need not be kept.
setInterval(() => {
  for (const c of fake.calls.splice(0)) {
    if (c.method !== "response_url") continue;
    answers++;
    lastAt = c.at;
    lastText = String(c.args.text ?? "");
  }
}, 20).unref();
process.on("message", (m) => {
  if (m === "stats") process.send!({ answers, lastAt, lastText, teamId: fake.teamId, botUserId: fake.botUserId, botId: fake.botId });
});
process.stdout.write(`url ${fake.url}\n`);
process.once("SIGTERM", () => void fake.close().then(() => process.exit(0)));
