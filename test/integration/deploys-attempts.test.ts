import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptedRequest } from "../../bot/attempt.ts";
import { commandLogLine } from "../../bot/command-log.ts";
import { parse } from "../../bot/grammar.ts";
import { allowAll, startHarness, type Harness } from "../support/raptor-harness.ts";
import { localHelloPlaybook } from "../support/playbook-yaml.ts";

/**
 * New-user trial: `deploys hello local` did not list `config set hello local PORT=1`, which the
 * grammar refused. A deployment attempted on a known app+env is recorded as a refused request
 * (bot/attempt.ts) and listed with the others, its values masked; text naming none stays a bare
 * parse error.
 */
const names = { apps: ["hello"], envs: { hello: ["local", "production"] } };

describe("attemptedRequest: which refused texts are attempts on an app+env, and what is kept of them", () => {
  it.each<[string, ReturnType<typeof attemptedRequest>]>([
    ["config set hello local PORT=1", { action: "config-set", app: "hello", env: "local", summary: "config set hello local PORT=…" }],
    ["config secret hello local NOTE=short extra", { action: "config-set", app: "hello", env: "local", summary: "config secret hello local NOTE=… …" }],
    ["config unset hello local", { action: "config-unset", app: "hello", env: "local", summary: "config unset hello local" }],
    ["config unset hello local PORT=1", { action: "config-unset", app: "hello", env: "local", summary: "config unset hello local PORT=…" }],
    ["deploy hello local bad..ref", { action: "deploy", app: "hello", env: "local", summary: "deploy hello local bad..ref" }],
    ["deploy! hello@bad..ref to production", { action: "deploy", app: "hello", env: "production", summary: "deploy! hello@bad..ref to production" }],
    ["hello local deploy bad..ref", { action: "deploy", app: "hello", env: "local", summary: "hello local deploy bad..ref" }],
    ["scale hello local web=abc", { action: "scale", app: "hello", env: "local", summary: "scale hello local web=…" }],
    ["rollback hello local vX", { action: "rollback", app: "hello", env: "local", summary: "rollback hello local vX" }],
    ["restart hello local web extra", { action: "restart", app: "hello", env: "local", summary: "restart hello local web extra" }],
    ["promote hello local local", { action: "promote", app: "hello", env: "local", summary: "promote hello local local" }],
    ["promote hello local production extra", { action: "promote", app: "hello", env: "production", summary: "promote hello local production extra" }],
    // Not attempts on a known app+env: they stay bare parse errors.
    ["config set nope local PORT=1", undefined],
    ["deploy hello nowhere", undefined],
    ["status", undefined],
    ["lock hello local 0m", undefined],
    ["config secrte hello local NOTE=opensesame", undefined],
    ["dploy hello local", undefined],
  ])("%s", (text, attempt) => {
    expect(parse(text, names).ok).toBe(false);
    expect(attemptedRequest(text, names)).toEqual(attempt);
  });
  it("a channel bound to an app+env fills them in", () => {
    expect(attemptedRequest("config set PORT=1", { ...names, app: "hello", env: "production" })).toEqual({ action: "config-set", app: "hello", env: "production", summary: "config set PORT=…" });
  });
  it("raptor.log's line names the app, env and the masked text; the raw text never", () => {
    const text = "config secret hello local NOTE=short";
    const line = commandLogLine({ text, actor: { id: "ann" }, origin: "terminal" }, parse(text, names), { kind: "parse_error", text: "…" }, 3, attemptedRequest(text, names));
    expect(line.fields).toMatchObject({ command: "unparsed", app: "hello", env: "local", attempted: "config-set", text: "config secret hello local NOTE=…", outcome: "parse_error" });
    expect(JSON.stringify(line)).not.toContain("NOTE=short");
  });
});

describe("deploys lists what the grammar refused on the app+env (real Postgres and Redis)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ playbookYaml: await localHelloPlaybook("raptor-attempts-", ["local: { squad: here }", "other: { squad: here }"]), authorizer: allowAll, workers: 0 });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("config set hello local PORT=1 and a bad ref show, refused with the grammar's reason; a secret typed there does not; other text is not listed", async () => {
    expect((await h.say("config set hello local PORT=1", { actor: { id: "ann" } })).reply.kind).toBe("parse_error");
    expect((await h.say("deploy hello local bad..ref", { actor: { id: "bob" } })).reply.kind).toBe("parse_error");
    expect((await h.say("config secret hello local NOTE=short", { actor: { id: "ann" } })).reply.kind).toBe("parse_error");
    expect((await h.say("status", { actor: { id: "ann" } })).reply.kind).toBe("parse_error");
    expect((await h.say("deploy hello other bad..ref", { actor: { id: "ann" } })).reply.kind).toBe("parse_error");
    const deploys = await h.say("deploys hello local");
    const lines = deploys.text.split("\n");
    expect(lines[1]).toBe("3 requests in the last 7d, newest first:");
    expect(lines[2]).toMatch(/ ann: `config secret hello local NOTE=…` — refused: config secret: a `config secret` value must have at least 8 characters \(NOTE has 5\): a shorter one is too easy to guess, and masking it would hide ordinary words$/);
    expect(lines[3]).toMatch(/ bob: `deploy hello local bad\.\.ref` — refused: "bad\.\.ref" is not a valid ref: it contains "\.\."$/);
    // New-user trial, finding 10: the reason was cut mid-word at 200 characters ("RAPTOR_PROC_TYP…"); the aside goes whole.
    expect(lines[4]).toMatch(/ ann: `config set hello local PORT=…` — refused: config set: PORT is set by Raptor for every proc, over any config of that name; pick another name$/);
    expect(deploys.text).not.toContain("NOTE=short");
  }, 60_000);

  // New-user trial, finding 10: reasons were cut after "e.g" (`write KEY=VALUE, e.g`).
  it("a refusal's reason ends at its sentence's end, without the example, never at e.g", async () => {
    expect((await h.say("config set hello other FOO", { actor: { id: "ann" } })).reply.kind).toBe("parse_error");
    expect((await h.say("config set hello other", { actor: { id: "ann" } })).reply.kind).toBe("parse_error");
    const lines = (await h.say("deploys hello other")).text.split("\n");
    expect(lines[2]).toMatch(/ ann: `config set hello other` — refused: config set hello other needs KEY=VALUE pairs$/);
    expect(lines[3]).toMatch(/ ann: `config set hello other [^`]*` — refused: "FOO" has no value: write KEY=VALUE$/);
    expect(lines.join("\n")).not.toMatch(/e\.g\b/);
  }, 60_000);
});
