import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Authorizer } from "../../bot/dispatch-types.ts";
import { parse } from "../../bot/grammar.ts";
import { sayAndPublish } from "../../bot/say.ts";
import { toPlain } from "../../bot/notify/markup.ts";
import { auditLog } from "../../db/schema/index.ts";
import { rememberSecrets } from "../../db/queries/known-secrets.ts";
import { lastKnownRedactor, redactingLogger, redactorFor } from "../../engine/redact.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { localHelloPlaybook } from "../support/playbook-yaml.ts";
import { openTerminalChat } from "../support/terminal-chat.ts";

/**
 * Red team 2026-11-30, H1-H3, M4 and L4, as the report typed them, through `raptor say` into a
 * `make run` chat (real Postgres and Redis, raptor.log written by the runtime's redacting logger):
 * no secret typed in the wrong place reaches audit_log, raptor.log, the chat or `deploys`; a
 * secret equal to a person's name never erases the name; refused attempts are recorded only for
 * people the environment's access list lets ask.
 */
const SAID: [text: string, secret: string][] = [
  ["config secret hello local s3cretNoKeyAAA1", "s3cretNoKeyAAA1"],
  ["config secret API_TOKEN=s3cretBeforeApp2 hello local", "s3cretBeforeApp2"],
  ["config secret hello API_TOKEN=s3cretBetween3 local", "s3cretBetween3"],
  ["plan config set hello local API_TOKEN=s3cretPlanAAAA1", "s3cretPlanAAAA1"],
  ["plan config secret hello local MYVAR=s3cretPlanBBBB2", "s3cretPlanBBBB2"],
  ["API_TOKEN=tok-8f3a2c91xyz", "tok-8f3a2c91xyz"],
  ["xoxb-S3cretPastedTokenByMistake-1234567890abcdef", "S3cretPastedToken"],
];
/** eve is on no access list of hello local: her mistypes are not listed by `deploys` (L4). */
const EVE = "config secret hello local EveWasHere1";
const people: Authorizer = { allowed: async (actor, list) => list.includes(actor.id) };

describe("typed secrets are masked wherever Raptor keeps or repeats them (real Postgres and Redis)", () => {
  let h: Harness;
  let logFile: string;
  beforeAll(async () => {
    // Red team 2 N4: a playbook secret (`${VAR}`, which nobody can refuse when typed) equal to one of Raptor's words.
    process.env.RAPTOR_TEST_PLAIN_WORD = "queued";
    h = await startHarness({
      playbookYaml: await localHelloPlaybook("raptor-typed-mask-", ['local: { squad: here, env: { WORD_TOKEN: "${RAPTOR_TEST_PLAIN_WORD}" }, access: { deploy: [root, mallory1], config: [root, mallory1], lock: [root, mallory1] } }']),
      authorizer: people,
      workers: 0,
    });
    logFile = join(h.dataDir, "raptor.log");
    h.engine.logger = redactingLogger(pino({ level: "debug" }, pino.destination({ dest: logFile, sync: true })), () => lastKnownRedactor(h.engine));
  }, 120_000);
  afterAll(async () => {
    delete process.env.RAPTOR_TEST_PLAIN_WORD;
    await h?.close();
  });

  it("the report's inputs, said into make run's chat: audit_log, raptor.log, the chat and deploys hold none of the secrets; mallory1 stays mallory1", async () => {
    const deps = { engine: h.engine, authorizer: people };
    const chat = await openTerminalChat(h.engine, people, { id: "chat" });
    const say = (text: string, actor: string) => sayAndPublish(deps, { text, actor: { id: actor }, parsed: parse(text), pid: process.pid + 1 });

    for (const [text] of SAID) await say(text, "root");
    await say(EVE, "eve");
    // M4: a secret whose value is mallory1's own name.
    expect((await say("config secret hello local NOTE=mallory1", "mallory1")).kind).toBe("deployment");
    expect((await say("lock hello local 1m test", "mallory1")).kind).toBe("done");
    // As the terminal shows answers: plain text (answers carry marks for Slack's renderers).
    const status = toPlain((await say("status hello local", "root")).text);
    const deploys = { text: toPlain((await say("deploys hello local", "root")).text) };
    await vi.waitUntil(() => chat.printed.includes("deploys of hello local"), { timeout: 15_000, interval: 20 });
    await chat.close();

    const audit = JSON.stringify(await h.engine.db.select().from(auditLog));
    const log = await readFile(logFile, "utf8");
    const places = { audit_log: audit, "raptor.log": log, chat: chat.printed, deploys: deploys.text };
    for (const [where, text] of Object.entries(places)) {
      for (const [, secret] of SAID) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
    }
    // The refused attempts are listed, masked, with their reasons (H1)...
    expect(deploys.text).toContain("root: `config secret hello API_TOKEN=… local` — refused: \"API_TOKEN=…\" is not a valid environment name");
    expect(deploys.text).toContain("root: `config secret hello local …` — refused: \"…\" has no value");
    // ...but not eve's, who may not change hello local's config (L4).
    expect(deploys.text).not.toContain("eve:");
    expect(audit).not.toContain("EveWasHere1");
    // M4: the name stays wherever it names the person.
    expect(deploys.text).toContain("mallory1: `config secret hello local NOTE=…`");
    expect(status).toContain("locked by mallory1");
    expect(log).toContain('"actor":"mallory1"');
    expect(log).toContain("command lock from mallory1");
  }, 60_000);

  it("red team 2 N4: a plain word is refused as a secret; one already stored, or the playbook's, rewrites no outcome nor raptor.log event", async () => {
    const deps = { engine: h.engine, authorizer: people };
    const say = (text: string, actor: string) => sayAndPublish(deps, { text, actor: { id: actor }, parsed: parse(text), pid: process.pid + 1 });
    // The report's input: refused, like a short secret, and nothing stored.
    const refused = await say("config secret hello local NOTE2=succeeded", "root");
    expect(refused.kind).toBe("parse_error");
    expect(refused.text).toContain("config secret: a `config secret` value must not be an ordinary word (NOTE2's value is letters only");
    // Stored before the rule (the report's run): masks nothing.
    await rememberSecrets(h.engine.db, "hello", "local", { NOTE2: "succeeded", NOTE3: "deployment.failed" });
    const redact = await redactorFor(h.engine);
    expect(redact("deploy hello local — succeeded, v3; deployment.failed")).toBe("deploy hello local — succeeded, v3; deployment.failed");
    // The playbook's `queued` is still masked in free text (a reason typed), but not in an outcome
    // (mallory1's change above waits in the queue: no workers) nor in an event name.
    expect(redact("the app printed queued")).toBe("the app printed [REDACTED]");
    const chat = await openTerminalChat(h.engine, people, { id: "chat2" });
    const deploys = toPlain((await say("deploys hello local", "root")).text);
    expect(deploys).toMatch(/mallory1: `config secret hello local NOTE=…` — queued \(d-[a-z0-9]+\)/);
    expect(deploys).not.toMatch(/— \[REDACTED\]/);
    // make run's chat prints the said answer as dispatch gave it, not redacted again.
    await vi.waitUntil(() => chat.printed.includes("deploys of hello local"), { timeout: 15_000, interval: 20 });
    await chat.close();
    expect(chat.printed).toMatch(/— queued \(d-[a-z0-9]+\)/);
    expect(chat.printed).not.toMatch(/— \[REDACTED\]/);
    const log = await readFile(logFile, "utf8");
    expect(log).toContain('"event":"deployment.queued"');
    expect(log).not.toContain("deployment.[REDACTED]");
  }, 60_000);
});
