/**
 * The raptor entry (bin/raptor runs it under tsx; scripts/build.sh compiles it). Only what every
 * command needs is imported here: `raptor bot` on Slack loads the acking thread's modules
 * (bin/slack-ack-thread.ts) and not the engine's, everything else loads bin/commands.ts.
 */
import { configFromEnv } from "./config.ts";
import { progressLines } from "./progress.ts";
import { USAGE } from "./usage.ts";
import { crashText } from "./crash-text.ts";

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  if (!cmd || cmd === "-h" || cmd === "--help") {
    process.stdout.write(`${USAGE}\n`);
    return cmd ? 0 : 2;
  }
  if (cmd === "bot" && process.env.SLACK_BOT_TOKEN) {
    const progress = progressLines(process.stderr);
    const { runSlackBot } = await import("./slack-ack-thread.ts");
    progress("modules loaded");
    return runSlackBot(configFromEnv(), progress);
  }
  const { runCommand } = await import("./commands.ts");
  return runCommand(argv);
}

// `make run 2>&1 | tee log`: Ctrl-C ends tee too, and a write to its pipe fails with EPIPE. That
// must not crash Raptor before its shutdown (the embedded database's clean close) has run.
for (const out of [process.stdout, process.stderr]) out.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    // Mistakes an operator fixes in their settings are one line; anything else is a bug: the stack, and its causes.
    process.stderr.write(`raptor: ${crashText(err)}\n`);
    process.exit(1);
  },
);

