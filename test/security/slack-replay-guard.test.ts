/**
 * redteam2 N1, N2 and N5, with the report's inputs, against the real Bolt app, the fake Slack and
 * real Redis:
 *  - N1: the replay guard wrote each request's signature header to Redis before verifying it, so
 *    unsigned requests with 15 KB headers filled Redis; now nothing is stored for a request that
 *    is not validly signed.
 *  - N2: Bolt reads the signature only up to a second `=`, so `v0=<hex>=a` replayed a captured
 *    request; now the header must be exactly `v0=` + 64 hex digits, and the key is those digits.
 *  - N5: a signed `/raptor` with a repeated `text` reached the command thread as an array and
 *    killed it; now it is refused at the ack, and nothing a job holds can throw in answering it.
 */
import { describe, expect, it } from "vitest";
import { answerCommand, INTERNAL_ERROR, type CommandJob } from "../../bot/slack/command-job.ts";
import { FakeDispatch } from "../support/fake-dispatch.ts";
import { slackSignature } from "../support/fake-slack.ts";
import { collectingLogger, postSigned, useSlackBed } from "../support/slack-bed.ts";

const SECRET = "guard-signing-secret";
const TOKEN = "xoxb-guard-token";

const dispatch = new FakeDispatch();
const warnings: string[] = [];
const bed = useSlackBed({ signingSecret: SECRET, botToken: TOKEN, app: { dispatch: dispatch.fn, logger: collectingLogger(warnings, ["warn", "error"]) } });

const now = () => Math.floor(Date.now() / 1000);
const sigKeys = async () => (await bed.redis.keys(`${(bed as unknown as { prefix: string }).prefix}slack:sig:*`)).length;

/** One signed `/raptor` command, captured whole so it can be sent again. */
function signedCommand(text: string, timestamp = now()) {
  return bed.fake.signSlashCommand(bed.url, { text, user: "U0ALICE", userName: "alice", channel: "C0WEB", channelName: "web" }, { timestamp });
}

/** The same request with its signature header changed. */
const withSignature = (r: ReturnType<typeof signedCommand>, signature: string) => ({ ...r, headers: { ...r.headers, "x-slack-signature": signature } });

/** Nothing more was dispatched a moment after (a refused request must never reach dispatch). */
async function noneDispatchedSince(n: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  expect(dispatch.requests.length).toBe(n);
}

describe("N1: a request that is not validly signed writes nothing to Redis", () => {
  it("200 unsigned POSTs with 15 KB signatures (the report's flood) are refused and store no key", async () => {
    const before = await sigKeys();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(bed.url, { method: "POST", headers: { "content-type": "application/json", "x-slack-request-timestamp": String(now()), "x-slack-signature": `v0=${i.toString(36)}${"x".repeat(15_000)}` }, body: "{}" }).then((r) => r.status),
      ),
    );
    expect(new Set(answers)).toEqual(new Set([401]));
    expect(await sigKeys()).toBe(before);
  });

  it.each([
    ["too short (the report's v0=00 probe)", "v0=00"],
    ["upper-case hex", `v0=${"A".repeat(64)}`],
    ["another version", `v1=${"a".repeat(64)}`],
    ["65 hex digits", `v0=${"a".repeat(65)}`],
    ["a suffix", `v0=${"a".repeat(64)}=a`],
  ])("a signature header %s: 401, nothing stored", async (_name, signature) => {
    const before = await sigKeys();
    const n = dispatch.requests.length;
    const res = await postSigned(withSignature(signedCommand("status web"), signature));
    expect(res.status).toBe(401);
    expect(await sigKeys()).toBe(before);
    await noneDispatchedSince(n);
  });

  it.each([
    ["a float", (t: number) => `${t}.0`],
    ["an exponent", (t: number) => t.toExponential()],
    ["a sign", (t: number) => `+${t}`],
    ["hex digits", (t: number) => `0x${t.toString(16)}`],
  ])("a timestamp with %s: 401, nothing stored", async (_name, format) => {
    const ts = now();
    const signed = signedCommand("status web", ts);
    const before = await sigKeys();
    const res = await postSigned({ ...signed, headers: { ...signed.headers, "x-slack-request-timestamp": format(ts) } });
    expect(res.status).toBe(401);
    expect(await sigKeys()).toBe(before);
  });

  it("a well-formed signature that does not verify stores nothing, so the genuine request it copied still goes through", async () => {
    const genuine = signedCommand("status web production");
    const before = await sigKeys();
    const n = dispatch.requests.length;
    // A copy of the genuine signature on another body: the guard used to record it, refusing the genuine request as "replayed".
    const forged = await postSigned({ ...genuine, body: genuine.body.replace("status", "deploy") });
    expect(forged.status).toBe(401);
    expect(await sigKeys()).toBe(before);
    expect((await postSigned(genuine)).status).toBe(200);
    await dispatch.waitFor(n + 1);
    expect(await sigKeys()).toBe(before + 1);
  });
});

describe("N2: a captured request cannot be replayed by appending to its signature", () => {
  it("a /raptor command sent again with =a, =b and == is refused and dispatched once", async () => {
    const signed = signedCommand("deploy web production");
    const n = dispatch.requests.length;
    expect((await postSigned(signed)).status).toBe(200);
    await dispatch.waitFor(n + 1);
    for (const suffix of ["", "=a", "=b", "=="]) {
      const res = await postSigned(withSignature(signed, signed.headers["x-slack-signature"] + suffix));
      expect(res.status, `suffix ${JSON.stringify(suffix)}`).toBe(401);
    }
    await noneDispatchedSince(n + 1);
  });

  it("an Approve button (Bolt's path) sent again with =r1 and =r2 is refused", async () => {
    const press = bed.fake.signBlockAction(bed.url, { user: "U0ALICE", actionId: "raptor_approve", value: "approve d-77", channel: "C0WEB", messageTs: "1700000800.000100" });
    const n = dispatch.requests.length;
    expect((await postSigned(press)).status).toBe(200);
    await dispatch.waitFor(n + 1);
    for (const suffix of ["", "=r1", "=r2"]) {
      const res = await postSigned(withSignature(press, press.headers["x-slack-signature"] + suffix));
      expect(res.status, `suffix ${JSON.stringify(suffix)}`).toBe(401);
    }
    await noneDispatchedSince(n + 1);
  });
});

describe("N5: every field the bot reads is one string", () => {
  /** A `/raptor` command whose form body is changed (then signed), as only a holder of the secret can send it. */
  function resigned(edit: (body: string) => string) {
    const ts = now();
    const signed = signedCommand("apps", ts);
    const body = edit(signed.body);
    const responsePath = new URL(new URLSearchParams(signed.body).get("response_url")!).pathname;
    return { responsePath, sent: postSigned({ ...signed, body, headers: { ...signed.headers, "x-slack-signature": slackSignature(SECRET, ts, body) } }) };
  }

  it.each([
    ["text repeated (the report's request)", (b: string) => `${b}&text=deploy+hello+local`, "`text` came 2 times"],
    ["user_id repeated", (b: string) => `${b}&user_id=U0BOB`, "`user_id` came 2 times"],
    ["no channel_id", (b: string) => b.replace(/(^|&)channel_id=[^&]*/, ""), "`channel_id` is missing"],
  ])("%s: refused at the ack with an answer to its author, nothing dispatched", async (_name, edit, problem) => {
    const n = dispatch.requests.length;
    const { responsePath, sent } = resigned(edit);
    const res = await sent;
    expect(res.status).toBe(200);
    const ack = JSON.parse(res.body) as { response_type: string; text: string };
    expect(ack.response_type).toBe("ephemeral");
    expect(ack.text).toContain(problem);
    expect(ack.text).toContain("nothing was started");
    await noneDispatchedSince(n);
    // Before, Bolt took it, and the author was told the command thread had stopped answering it.
    expect(bed.fake.calls.filter((c) => c.method === "response_url" && c.args.url === responsePath)).toEqual([]);
    // The next command is answered as usual.
    expect((await postSigned(signedCommand("status web"))).status).toBe(200);
    await dispatch.waitFor(n + 1);
  });

  it("answering a job whose text is not a string answers that command with an internal error instead of throwing", async () => {
    const from = bed.fake.calls.length;
    const job = { text: ["apps", "deploy hello local"], user: "U0ALICE", channel: "C0WEB", isDm: false, reply: { source: "command", channel: "C0WEB", user: "U0ALICE", responseUrl: `${bed.fake.apiUrl.replace(/\/api\/?$/, "")}/respond/n5` } } as unknown as CommandJob;
    const deps = { dispatch: dispatch.fn, directory: bed.slack.directory, client: bed.slack.client, log: collectingLogger([]) };
    await expect(answerCommand(deps, job)).resolves.toBeUndefined();
    const answer = await bed.fake.waitForCall((c) => c.method === "response_url" && c.args.url === "/respond/n5", { from });
    expect(JSON.stringify(answer.args)).toContain(INTERNAL_ERROR.text.slice(0, 30));
  });
});
