import { describe, expect, it } from "vitest";
import { FakeDispatch } from "../support/fake-dispatch.ts";
import { collectingLogger, postSigned, useSlackBed } from "../support/slack-bed.ts";

const SECRET = "replay-signing-secret";
const TOKEN = "xoxb-replay-token";

const dispatch = new FakeDispatch();
const warnings: string[] = [];
const bed = useSlackBed({ signingSecret: SECRET, botToken: TOKEN, app: { dispatch: dispatch.fn, logger: collectingLogger(warnings, ["warn"]) } });

/** One signed slash command, captured whole so it can be sent again byte for byte. */
function signedCommand(text: string, timestamp = Math.floor(Date.now() / 1000)) {
  const signed = bed.fake.signSlashCommand(bed.url, { text, user: "U0ALICE", userName: "alice", channel: "C0WEB", channelName: "web" }, { timestamp });
  return () => postSigned(signed);
}

describe("signed Slack requests cannot be replayed", () => {
  it("the same signed request sent again inside five minutes is refused and dispatched once", async () => {
    const send = signedCommand("deploy web production");
    const n = dispatch.requests.length;
    expect((await send()).status).toBe(200);
    await dispatch.waitFor(n + 1);
    const again = await send();
    expect(again.status).toBe(401);
    expect(again.body).toContain("replayed");
    await new Promise((r) => setTimeout(r, 300));
    expect(dispatch.requests.length).toBe(n + 1);
    expect(warnings.some((w) => w.includes("replayed signature"))).toBe(true);
  });

  it("the same signed request sent three times at once is let through once", async () => {
    const send = signedCommand("deploy web production");
    const n = dispatch.requests.length;
    const answers = await Promise.all([send(), send(), send()]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401]);
    await dispatch.waitFor(n + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(dispatch.requests.length).toBe(n + 1);
  });

  it("a request dated ten minutes in the future is refused, even correctly signed", async () => {
    const n = dispatch.requests.length;
    const res = await signedCommand("deploy web production", Math.floor(Date.now() / 1000) + 600)();
    expect(res.status).toBe(401);
    expect(res.body).toContain("in the future");
    await new Promise((r) => setTimeout(r, 300));
    expect(dispatch.requests.length).toBe(n);
  });

  it("a request within the allowed skew (30 s ahead) still goes through; one older than five minutes is refused by Bolt", async () => {
    const n = dispatch.requests.length;
    expect((await signedCommand("status web", Math.floor(Date.now() / 1000) + 30)()).status).toBe(200);
    await dispatch.waitFor(n + 1);
    expect((await signedCommand("status web", Math.floor(Date.now() / 1000) - 600)()).status).toBe(401);
  });
});
