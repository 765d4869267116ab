import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { allConfigVars } from "../../db/queries/config-vars.ts";
import { allKnownSecrets, rememberSecrets } from "../../db/queries/known-secrets.ts";
import { showControls } from "../../lib/control-chars.ts";
import { escapeMrkdwn } from "../../bot/notify/block-kit.ts";
import { guardMessage } from "../../bot/notify/message-fit.ts";
import { publishSaid } from "../../bot/terminal-feed.ts";
import { parse } from "../../bot/grammar.ts";
import { readSaidCommand, setsSecretOnArgv } from "../../bin/say-input.ts";
import { allowAll, startHarness, type Harness } from "../support/raptor-harness.ts";
import { runRaptor } from "../support/spawn-raptor.ts";
import { localHelloPlaybook } from "../support/playbook-yaml.ts";
import { openTerminalChat } from "../support/terminal-chat.ts";

/**
 * Issue 8 (red team): app-controlled text (build output, commit subjects and authors, lock
 * reasons) reached the operator's terminal with its escape sequences working (`\x1b[2K\x1b[1A` then
 * a forged "✓ Deploy … is now v9"); the `make run` chat echoed a `raptor say` command unmasked;
 * `raptor say "config secret …"` showed the secret in `ps` for the whole deployment.
 */

const ESC = "\x1b";
// Any control character that would act on a terminal, but line feed and tab.
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("showControls: every control character is shown, none acts", () => {
  const cases: [string, string, string][] = [
    ["plain text and unicode stay", "✓ hello v9 — ünïcode", "✓ hello v9 — ünïcode"],
    ["line feed and tab stay", "a\n\tb", "a\n\tb"],
    ["CR LF is a line end", "a\r\nb", "a\nb"],
    ["a bare CR is shown (it overwrites the line)", "50%\r100%", "50%\\x0d100%"],
    ["OSC title + clear screen + colour", `${ESC}]0;pwned\x07${ESC}[2J${ESC}[31mRED`, "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRED"],
    ["erase line, cursor up, forged success", `fix ${ESC}[2K${ESC}[1A${ESC}[32m✓ Deploy`, "fix \\x1b[2K\\x1b[1A\\x1b[32m✓ Deploy"],
    ["NUL, backspace, DEL", "a\x00b\x08c\x7f", "a\\x00b\\x08c\\x7f"],
    ["C1 (8-bit CSI)", "\x9b2J", "\\x9b2J"],
    ["line separator (Slack breaks the line there)", "a\u2028✓ done", "a\\u2028✓ done"],
    ["bidi override", "v1\u202e9v", "v1\\u202e9v"],
  ];
  for (const [name, input, shown] of cases) {
    it(name, () => {
      expect(showControls(input)).toBe(shown);
      expect(showControls(shown)).toBe(shown); // idempotent
    });
  }
});

describe("Slack: user text cannot fake lines", () => {
  const subject = `fix ${ESC}[2K\r\u2028:white_check_mark: Deploy hello production is now v9`;
  it("escapeMrkdwn shows the controls and still escapes < > &", () => {
    expect(escapeMrkdwn(`${subject} <!channel>`)).toBe("fix \\x1b[2K\\x0d\\u2028:white_check_mark: Deploy hello production is now v9 &lt;!channel&gt;");
  });
  it("guardMessage (the last stop before Slack) cleans every text, code blocks included, and keeps button values", () => {
    const m = guardMessage({
      text: subject,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "```" + `npm ${ESC}[1A\rok` + "```" } },
        { type: "actions", elements: [{ type: "button", action_id: "rollback", text: { type: "plain_text", text: `Roll\rback` }, value: "rollback hello prod 3" }] },
      ],
    });
    expect(JSON.stringify(m)).not.toMatch(/\\u001b|\\r/);
    expect(m.blocks[0]).toMatchObject({ text: { text: "```npm \\x1b[1A\\x0dok```" } });
    expect(m.blocks[1]).toMatchObject({ elements: [{ value: "rollback hello prod 3" }] });
  });
});

describe("raptor say: which commands may not be given on its command line", () => {
  const cases: [string, boolean][] = [
    ["config secret hello local NOTE=opensesame42", true],
    ["config set hello local API_TOKEN=tok-8f3a2c91", true],
    ["config set hello local API_TOKEN=abc", true], // too short for a secret: the grammar refuses it, but ps showed it
    ["config set hello local DATABASE_URL=postgres://app:pw@db/app", true],
    ["plan config secret hello local NOTE=opensesame42", true],
    ["config secrte hello local NOTE=opensesame", false], // a typo, not understood: refused by the grammar, nothing stored
    ["CONFIG SECRET hello", true], // did not parse, but it says what it is
    ["API_TOKEN=tok-8f3a2c91xyz", true], // not understood, but a secret-looking key's value (final trial)
    ["status xoxb-1234-5678-abcdefghijkl", true], // a pasted token
    ["deploy hello local API_TOKEN=tok-8f3a2c91xyz", true],
    ["config set hello local GREETING=howdy APP_ENV=local", false],
    ["config unset hello local API_TOKEN", false],
    ["deploy hello local", false],
  ];
  for (const [text, refused] of cases) {
    it(`${text} → ${refused ? "refused on argv" : "allowed"}`, () => {
      expect(setsSecretOnArgv(text, parse(text))).toBe(refused);
    });
  }
  it("say - takes one command from stdin, and says so when there is none or more than one", async () => {
    expect(await readSaidCommand(Readable.from(["config secret hello local ", "NOTE=x\n"]))).toBe("config secret hello local NOTE=x");
    await expect(readSaidCommand(Readable.from(["\n  \n"]))).rejects.toThrow("stdin held no command");
    await expect(readSaidCommand(Readable.from(["help\napps\n"]))).rejects.toThrow("more than one line");
  });
});

describe("the terminal chat and raptor say (real Postgres and Redis)", () => {
  const planted = "PlantedTok3nXYZ";
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ playbookYaml: await localHelloPlaybook("raptor-term-out-", ["prod: { squad: here }"]), authorizer: allowAll });
    // A secret of another app, as `config secret` leaves it (asked for there, by another process).
    await rememberSecrets(h.engine.db, "other", "prod", { API_TOKEN: planted });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("make run's chat shows a `raptor say` echo's control characters as text, and masks its secrets", async () => {
    const chat = await openTerminalChat(h.engine, allowAll, { id: "ann" });
    // What another process's `raptor say` published (another pid), escape codes and the secret in it.
    await publishSaid(h.engine.redis, h.engine.prefix, {
      actor: "root",
      text: `lock hello prod 1m leaked ${planted}`,
      lines: [`${ESC}]0;pwned\x07${ESC}[2J${ESC}[31mRED`],
      pid: process.pid + 1,
    });
    await vi.waitUntil(() => chat.printed.includes("RED"), { timeout: 15_000, interval: 50 });
    await chat.close();
    // The chat's own carriage returns (each line written over the prompt) aside, nothing acts.
    expect(chat.printed.replaceAll("\r", "")).not.toMatch(ACTIVE);
    expect(chat.printed).toContain("── root (raptor say): lock hello prod 1m leaked [REDACTED]");
    expect(chat.printed).not.toContain(planted);
    expect(chat.printed).toContain("\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRED");
  }, 60_000);

  it("raptor say refuses a secret on its command line before storing anything; `raptor say -` takes it from stdin", async () => {
    const secret = "argvS3cretValue42";
    const refused = await runRaptor(["say", `config secret hello prod API_TOKEN=${secret}`], h.env, { stdin: "", timeoutMs: 180_000 });
    expect(refused.code, refused.out + refused.err).toBe(1);
    expect(refused.err).toContain("refused: this command sets or carries a secret, and on raptor's command line it is visible to every user of this machine (ps, /proc)");
    expect(refused.err).toContain("type it in the make run terminal chat, or give it to raptor say - on stdin");
    expect(await allKnownSecrets(h.engine.db)).not.toContain(secret);
    expect((await allConfigVars(h.engine.db)).map((r) => r.value)).not.toContain(secret);
    // The stdin form runs it (the harness's worker takes the change; it fails at release, nothing being deployed there yet).
    const viaStdin = await runRaptor(["say", "-"], { ...h.env, RAPTOR_SAY_WORKER: "0" }, { stdin: `config secret hello prod API_TOKEN=${secret}\n`, timeoutMs: 180_000 });
    expect(viaStdin.out, viaStdin.out + viaStdin.err).toContain("Config change hello prod — U_CLI asked: config secret hello prod API_TOKEN=…");
    expect(viaStdin.out + viaStdin.err).not.toContain(secret);
    expect(await allKnownSecrets(h.engine.db)).toContain(secret);
  }, 240_000);
});
