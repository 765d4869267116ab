import { describe, expect, it } from "vitest";
import { attemptedRequest } from "../../bot/attempt.ts";
import { commandLogLine, maskCommandText } from "../../bot/command-log.ts";
import { parse } from "../../bot/grammar.ts";
import { looksLikeCredential, maskReason, maskStoredReason, maskTyped, unparsedWord } from "../../bot/typed-text.ts";
import { makeRedactor } from "../../lib/redact.ts";
import { redactingLogger } from "../../engine/redact.ts";
import { memoryLogger } from "../support/raptor-harness.ts";

/**
 * Red team 2026-11-30 H1-H3: secrets typed where the grammar did not expect them were stored in
 * audit_log, written to raptor.log and echoed in the chat. Every row below is the report's exact
 * input; none of its secret may survive the mask, whatever the grammar made of the text.
 */
const names = { apps: ["hello"], envs: { hello: ["local", "production"] } };

const REPORT: [typed: string, secret: string, kept: string][] = [
  // H1: a refused `config secret`: the key forgotten, the pair before or between app and env.
  ["config secret hello local s3cretNoKeyAAA1", "s3cretNoKeyAAA1", "config secret hello local …"],
  ["config secret API_TOKEN=s3cretBeforeApp2 hello local", "s3cretBeforeApp2", "config secret API_TOKEN=… hello local"],
  ["config secret hello API_TOKEN=s3cretBetween3 local", "s3cretBetween3", "config secret hello API_TOKEN=… local"],
  // H2: `plan` around a config change.
  ["plan config set hello local API_TOKEN=s3cretPlanAAAA1", "s3cretPlanAAAA1", "plan config set hello local API_TOKEN=…"],
  ["plan config secret hello local MYVAR=s3cretPlanBBBB2", "s3cretPlanBBBB2", "plan config secret hello local MYVAR=…"],
  // H3: the secret is the first word.
  ["API_TOKEN=tok-8f3a2c91xyz", "tok-8f3a2c91xyz", "API_TOKEN=…"],
  ["xoxb-S3cretPastedTokenByMistake-1234567890abcdef", "S3cretPastedToken", "…"],
  // Quoted values, URLs with userinfo, tokens anywhere.
  ['config set hello local MSG_TOKEN="open sesame now" B=2', "open sesame", "config set hello local MSG_TOKEN=… B=…"],
  ["config set hello local DATABASE_URL=postgres://app:pw-9x7@db/app", "pw-9x7", "config set hello local DATABASE_URL=…"],
  ["deploy hello local https://bot:hunter22@git.example.com/x.git", "hunter22", "deploy hello local …"],
  ["lock hello local pasted xoxp-1234-5678-abcdef by mistake", "xoxp-1234", "lock hello local pasted … by mistake"],
];

describe("maskTyped: the one mask for typed text, whether or not it parsed", () => {
  it.each(REPORT)("%s", (typed, secret, kept) => {
    expect(maskTyped(typed, names)).toBe(kept);
    expect(maskTyped(typed, names)).not.toContain(secret);
  });
  it.each<[string, string]>([
    // Names, counts, refs and commit shas stay readable.
    ["scale hello local web=6 worker=2", "scale hello local web=6 worker=2"],
    ["deploy hello local v1.4.2", "deploy hello local v1.4.2"],
    ["deploy hello local 1b154c6e9a1b154c6e9a1b154c6e9a1b154c6e9a", "deploy hello local 1b154c6e9a1b154c6e9a1b154c6e9a1b154c6e9a"],
    ["lock hello local moving racks", "lock hello local moving racks"],
    ["approve d-k3j9x2ab", "approve d-k3j9x2ab"],
    ["config unset hello local API_TOKEN", "config unset hello local API_TOKEN"],
    // A key typed without its value is a name, not a secret: the grammar's "FOO" has no value stays readable.
    ["config set hello local FOO", "config set hello local FOO"],
    // Masking twice changes nothing: `deploys` masks stored summaries again.
    ["config secret hello API_TOKEN=… local", "config secret hello API_TOKEN=… local"],
  ])("%s stays %s", (typed, kept) => {
    expect(maskTyped(typed, names)).toBe(kept);
  });
  it.each<[string, boolean]>([
    ["xoxb-1-2-abc", true],
    ["xapp-1-A1-23", true],
    ["ghp_abcdefghij", true],
    ["AKIAABCDEFGHIJKL", true],
    ["https://u:p@h/x", true],
    ["S3cretPastedTokenByMistake", true],
    ["production", false],
    ["hello-local-v1-web-7500", false],
    ["feature/add-login", false],
    ["1b154c6e9a1b154c6e9a1b154c6e9a1b154c6e9a", false],
  ])("looksLikeCredential(%s) = %s", (word, yes) => {
    expect(looksLikeCredential(word)).toBe(yes);
  });
});

describe("unparsedWord: the first word of text that did not parse, when plain, else …", () => {
  it.each<[string, string]>([
    ["API_TOKEN=tok-8f3a2c91xyz", "…"],
    ["xoxb-S3cretPastedTokenByMistake-1234567890abcdef", "…"],
    ["config secrte hello local NOTE=opensesame", "config …"],
    ["status", "status"],
    ["deploy! hello", "deploy! …"],
    ["", ""],
  ])("%j → %j", (typed, shown) => {
    expect(unparsedWord(typed, names)).toBe(shown);
  });
});

describe("maskReason: the grammar's refusal never repeats what the mask hid", () => {
  it.each(REPORT.filter(([typed]) => !parse(typed, names).ok))("%s", (typed, secret) => {
    const parsed = parse(typed, names);
    if (parsed.ok) throw new Error("parsed");
    expect(parsed.error.includes(secret) || typed.startsWith("config secret API_TOKEN") || typed.startsWith("lock")).toBe(true);
    expect(maskReason(parsed.error, typed, names)).not.toContain(secret);
  });
  it("keeps the reason readable", () => {
    expect(maskReason('"s3cretNoKeyAAA1" has no value: write KEY=VALUE, e.g. `LOG_LEVEL=debug`.', "config secret hello local s3cretNoKeyAAA1", names)).toBe('"…" has no value: write KEY=VALUE, e.g. `LOG_LEVEL=debug`.');
    expect(maskReason("a shorter one is too easy to guess (NOTE has 5)", "config secret hello local NOTE=short", names)).toBe("a shorter one is too easy to guess (NOTE has 5)");
  });
});

describe("maskStoredReason: rows written before the mask (the report's stored rows) are shown masked", () => {
  it.each<[reason: string, summary: string, shown: string]>([
    ['"s3cretNoKeyAAA1" has no value: write KEY=VALUE', "config secret hello local …", '"…" has no value: write KEY=VALUE'],
    ['"API_TOKEN=s3cretBetween3" is not a valid environment name', "config secret hello API_TOKEN=s3cretBetween3 local", '"API_TOKEN=…" is not a valid environment name'],
    ['"bad..ref" is not a valid ref', "deploy hello local bad..ref", '"bad..ref" is not a valid ref'],
    ['"FOO" has no value: write KEY=VALUE', "config set hello other FOO", '"FOO" has no value: write KEY=VALUE'],
    // red team 2 N7: the grammar's own `"_"` stays readable.
    ['"1BAD=s3cretValue1" is not a valid config key: keys use letters, digits and "_", and don\'t start with a digit.', "config secret hello local …", '"…" is not a valid config key: keys use letters, digits and "_", and don\'t start with a digit.'],
  ])("%s", (reason, summary, shown) => {
    expect(maskStoredReason(reason, summary, names)).toBe(shown);
  });
});

describe("every place that keeps typed text goes through the mask", () => {
  it.each(REPORT)("%s: raptor.log's line, the echo, the attempt", (typed, secret) => {
    const parsed = parse(typed, names);
    const attempt = parsed.ok ? undefined : attemptedRequest(typed, names);
    const line = commandLogLine({ text: typed, actor: { id: "root" }, origin: "terminal" }, parsed, { kind: "parse_error", text: "x" }, 1, attempt, names);
    expect(JSON.stringify(line)).not.toContain(secret);
    expect(maskCommandText(typed, parsed, names)).not.toContain(secret);
    expect(JSON.stringify(attempt ?? {})).not.toContain(secret);
  });
});

/**
 * Issue 11: Raptor masks secrets, not config. A `config set` the grammar understood keeps its plain
 * values wherever it is repeated (the thread's head, raptor.log, `deploys`), as `config` shows them;
 * a secret-looking key's value, a URL with a password and a credential-looking value stay hidden,
 * and `config secret` hides every value.
 */
const PLAIN: [typed: string, shown: string][] = [
  ["config set hello local GREETING=howdy", "config set hello local GREETING=howdy"],
  ['config set hello local MSG="two words" LOG_LEVEL=debug', 'config set hello local MSG="two words" LOG_LEVEL=debug'],
  ["plan config set hello local GREETING=howdy", "plan config set hello local GREETING=howdy"],
  ["config set hello local GREETING=howdy API_TOKEN=s3cretAAAA1", "config set hello local GREETING=howdy API_TOKEN=…"],
  ["config set hello local DB=postgres://app:pw-9x7@db/app", "config set hello local DB=…"],
  ["config set hello local HOOK=xoxb-1234-5678-abcdefgh", "config set hello local HOOK=…"],
  ["config secret hello local GREETING=howdy-partner", "config secret hello local GREETING=…"],
  ["plan config secret hello local GREETING=howdy-partner", "plan config secret hello local GREETING=…"],
];

describe("a config set the grammar understood shows its plain values (issue 11), never a secret", () => {
  it.each(PLAIN)("%s", (typed, shown) => {
    const parsed = parse(typed, names);
    expect(parsed.ok).toBe(true);
    expect(maskCommandText(typed, parsed, names)).toBe(shown);
  });
});

describe("M4: a secret equal to a name never erases the name", () => {
  it("whole-word names stay, the same value inside a word is masked", () => {
    const redact = makeRedactor(["mallory1", "s3cretValue9"], ["mallory1"]);
    expect(redact("hello local: v1 — locked by mallory1 (test)")).toBe("hello local: v1 — locked by mallory1 (test)");
    expect(redact("xmallory1y and s3cretValue9")).toBe("x[REDACTED]y and [REDACTED]");
    expect(makeRedactor(["mallory1"])("locked by mallory1")).toBe("locked by [REDACTED]");
  });
  it("raptor.log writes identifier fields as they are", () => {
    const log = memoryLogger();
    const logger = redactingLogger(log, () => makeRedactor(["mallory1"]));
    logger.info({ actor: "mallory1", command: "lock", text: "NOTE=mallory1" }, "command lock: done");
    expect(log.lines.at(-1)).toMatchObject({ actor: "mallory1", command: "lock", text: "NOTE=[REDACTED]" });
  });
});
