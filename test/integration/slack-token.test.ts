import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBotToken } from "../../bot/slack/check-token.ts";
import { FakeSlack } from "../support/fake-slack.ts";

/** Issue 11 item 14: a bad token is one clear line at start, not a stack trace after 33 s. */
describe("checkBotToken against Slack's auth.test", () => {
  let fake: FakeSlack;
  beforeAll(async () => {
    fake = await FakeSlack.start({ signingSecret: "unused", botToken: "xoxb-good" });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("accepts the right token", async () => {
    await expect(checkBotToken("xoxb-good", fake.apiUrl)).resolves.toEqual({ user: "raptor", team: "Raptor Test" });
  });

  it.each([
    [undefined, "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page (docs/slack.md)."],
    ["xapp-1-oops", "SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-): see docs/slack.md."],
    ["xoxb-wrong", "Slack refused SLACK_BOT_TOKEN (invalid_auth): check the Bot User OAuth Token on the app's OAuth & Permissions page, and reinstall the app if it was revoked (docs/slack.md)."],
  ])("refuses %j at once with one line", async (token, line) => {
    await expect(checkBotToken(token, fake.apiUrl)).rejects.toThrow(line);
  });
});
