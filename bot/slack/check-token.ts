import { WebClient } from "@slack/web-api";

/** A Slack token Slack refused at start: `message` is the one line the operator reads. */
export class SlackTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SlackTokenError";
  }
}

/**
 * Calls `auth.test` once, with no retries, before Bolt starts (Bolt's own check retries with
 * backoff for half a minute and ends in a stack trace). Resolves with the bot's user and team;
 * throws SlackTokenError naming the variable and what Slack said (`invalid_auth`,
 * `not_authed`, `token_revoked`, ...), or that Slack could not be reached.
 */
export async function checkBotToken(token: string | undefined, slackApiUrl?: string): Promise<{ user: string; team: string }> {
  if (!token) throw new SlackTokenError("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page (docs/slack.md).");
  if (!token.startsWith("xoxb-")) throw new SlackTokenError("SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-): see docs/slack.md.");
  const client = new WebClient(token, { ...(slackApiUrl ? { slackApiUrl } : {}), retryConfig: { retries: 0 }, timeout: 10_000 });
  try {
    const r = await client.auth.test();
    return { user: String(r.user ?? ""), team: String(r.team ?? "") };
  } catch (e) {
    const code = (e as { data?: { error?: string } }).data?.error;
    if (code) throw new SlackTokenError(`Slack refused SLACK_BOT_TOKEN (${code}): check the Bot User OAuth Token on the app's OAuth & Permissions page, and reinstall the app if it was revoked (docs/slack.md).`);
    throw new SlackTokenError(`could not reach Slack to check SLACK_BOT_TOKEN: ${(e as Error).message}`);
  }
}
