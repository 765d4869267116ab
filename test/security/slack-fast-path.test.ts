import { describe, expect, it } from "vitest";
import { FakeDispatch } from "../support/fake-dispatch.ts";
import { collectingLogger, postSigned, useSlackBed } from "../support/slack-bed.ts";

const SECRET = "fast-path-signing-secret";
const TOKEN = "xoxb-fast-path-token";

const dispatch = new FakeDispatch();
const warnings: string[] = [];
const bed = useSlackBed({ signingSecret: SECRET, botToken: TOKEN, app: { dispatch: dispatch.fn, logger: collectingLogger(warnings, ["warn"]) } });

/** One slash command signed with `secret`; `tamper` changes its body after signing. */
function signedCommand(text: string, { secret = SECRET, tamper = (b: string) => b, headers: extra = {} as Record<string, string | undefined> } = {}) {
  const signed = bed.fake.signSlashCommand(bed.url, { text, user: "U0ALICE", userName: "alice", channel: "C0WEB", channelName: "web" }, { secret });
  const headers: Record<string, string | undefined> = { ...signed.headers, ...extra };
  for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
  return postSigned({ url: bed.url, headers: headers as Record<string, string>, body: tamper(signed.body) });
}

/** Nothing more was dispatched a moment after (a refused command must never reach dispatch). */
async function noneDispatchedSince(n: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  expect(dispatch.requests.length).toBe(n);
}

// `/raptor` commands are acked by bot/slack/command-fast-path.ts, not Bolt's App: each of Bolt's
// refusals must still happen there, with Bolt's status codes.
describe("slash commands keep Bolt's request checks", () => {
  it.each([
    ["signed with another secret", { secret: "not-the-secret" }],
    ["body changed after signing", { tamper: (b: string) => b.replace("status", "deploy") }],
    ["no signature header", { headers: { "x-slack-signature": undefined } }],
    ["no timestamp header", { headers: { "x-slack-request-timestamp": undefined } }],
    ["an unknown signature version", { headers: { "x-slack-signature": "v1=00" } }],
  ])("%s: 401, not dispatched", async (_name, how) => {
    const n = dispatch.requests.length;
    const res = await signedCommand("status web production", how);
    expect(res.status).toBe(401);
    await noneDispatchedSince(n);
  });

  it("a body over Bolt's 4 MB limit: 413, not dispatched", async () => {
    const n = dispatch.requests.length;
    const res = await signedCommand(`status ${"x".repeat(4 * 1024 * 1024)}`);
    expect(res.status).toBe(413);
    await noneDispatchedSince(n);
  });

  it("a correctly signed command is acked with an empty 200 and dispatched", async () => {
    const n = dispatch.requests.length;
    const res = await signedCommand("status web production");
    expect(res).toEqual({ status: 200, body: "" });
    await dispatch.waitFor(n + 1);
  });

  it("Slack's ssl_check (unsigned, form-encoded) still gets Bolt's 200", async () => {
    const res = await fetch(bed.url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "ssl_check=1&token=legacy" });
    expect(res.status).toBe(200);
  });
});
