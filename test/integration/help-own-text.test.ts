import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "../../bot/grammar.ts";
import { sayAndPublish } from "../../bot/say.ts";
import { toPlain } from "../../bot/notify/markup.ts";
import { allowAll, startHarness, type Harness } from "../support/raptor-harness.ts";
import { localHelloPlaybook } from "../support/playbook-yaml.ts";
import { openTerminalChat } from "../support/terminal-chat.ts";

/**
 * Trial 2, M2: a new user set `config secret hello local API_TOKEN=tok-8f3a2c91` as the README shows,
 * and then `help` read `e.g. config secret hello local API_TOKEN=[REDACTED]`: Raptor's own help went
 * through the secret redactor. Raptor's static texts are never redacted; typed text still is.
 */
describe("help is Raptor's own text, never redacted (real Postgres and Redis)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ playbookYaml: await localHelloPlaybook("raptor-help-own-", ["local: { squad: here }"]), authorizer: allowAll, workers: 0 });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("after the README's config secret, help shows its example as written, in the reply and in make run's chat", async () => {
    const deps = { engine: h.engine, authorizer: allowAll };
    const chat = await openTerminalChat(h.engine, allowAll, { id: "chat" });
    const say = (text: string) => sayAndPublish(deps, { text, actor: { id: "root" }, parsed: parse(text), pid: process.pid + 1 });
    await say("config secret hello local API_TOKEN=tok-8f3a2c91");

    const help = await say("help");
    expect(toPlain(help.text)).toContain("config secret hello local API_TOKEN=tok-8f3a2c91");
    // Typed text is still masked: the same value as a lock reason.
    const lock = await say("lock hello local 1m tok-8f3a2c91");
    expect(lock.text).not.toContain("tok-8f3a2c91");
    await vi.waitUntil(() => chat.printed.includes("is locked"), { timeout: 15_000, interval: 20 });
    await chat.close();
    expect(chat.printed).toContain("API_TOKEN=tok-8f3a2c91");
    const lockLines = chat.lines().filter((l) => l.includes("lock hello local") || l.includes("is locked"));
    expect(lockLines.length).toBeGreaterThan(0);
    expect(lockLines.join("\n")).not.toContain("tok-8f3a2c91");
  }, 60_000);
});
