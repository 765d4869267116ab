import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessList } from "../../bot/access.ts";
import { terminalAuthorizer } from "../../bot/terminal-access.ts";
import { loadPlaybooks } from "../../playbooks/load.ts";
import { environmentOf } from "../../playbooks/resolve.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { runRaptor } from "../support/spawn-raptor.ts";

/**
 * Issue 8 §5: the terminal's actor is `$RAPTOR_USER` or the OS user, and access lists were never
 * checked there (every list let the terminal in). Now they are, for that name, as for a Slack user.
 */
describe("terminal access lists: the rule", () => {
  const cases: [string, string[], boolean][] = [
    ["ann", [], true],
    ["ann", ["*"], true],
    ["ann", ["ann"], true],
    ["ann", ["bob"], false],
    ["ann", ["Ann"], false], // names are exact
    ["ann@example.com", ["ANN@example.com"], true], // an email entry matches the same email, any case
    ["ann", ["ann@example.com"], false],
    ["ann", ["@ann"], false], // a Slack user group, not a name
    ["leads", ["@leads"], false],
    ["ann", ["@leads", "ann"], true],
    ["ann", [" ann "], true],
  ];
  for (const [who, list, allowed] of cases) {
    it(`${who} with ${JSON.stringify(list)} → ${allowed ? "allowed" : "refused"}`, async () => {
      expect(await terminalAuthorizer.allowed({ id: who }, list)).toBe(allowed);
    });
  }
});

describe("terminal access lists through bin/raptor say", () => {
  let h: Harness;
  beforeAll(async () => {
    const repo = await mkdtemp(join(tmpdir(), "raptor-term-access-"));
    const pb = [
      "squads:",
      "  here: { hosts: [127.0.0.1], transport: local, supervisor: { url: 'http://127.0.0.1:9/RPC2', username: u, password: p }, ports: 7000-7010, root: /tmp/raptor-term-access }",
      "apps:",
      "  hello:",
      `    repo: ${JSON.stringify(repo)}`,
      "    environments:",
      "      prod: { squad: here, access: { deploy: ['@deployers'], lock: [ops-ann, '@leads'] } }",
    ].join("\n");
    // The terminal's rule in this process, for the commands after the first (same database and Redis as bin/raptor).
    h = await startHarness({ playbookYaml: { "pb.yaml": pb }, authorizer: terminalAuthorizer });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("a terminal user not on the lock list is refused, told who they are and that @groups are Slack's; the named user may lock", async () => {
    // The real path once: bin/raptor takes the actor from RAPTOR_USER and checks the list (exit 1, refused).
    const refused = await runRaptor(["say", "lock hello prod deploy freeze"], { ...h.env, RAPTOR_USER: "mallory" }, { timeoutMs: 120_000 });
    expect(refused.code, refused.out + refused.err).toBe(1);
    expect(refused.out).toContain("you may not lock hello prod. Who may: ops-ann, @leads.");
    expect(refused.out).toContain("In the terminal you are mallory (RAPTOR_USER, else your OS user). @leads is a Slack user group, which the terminal cannot look up.");
    // Before, the same command locked the environment: nothing was checked in the terminal.
    expect((await h.say("status hello prod", { actor: { id: "mallory" } })).text).not.toContain("locked by");
    const ok = await h.say("lock hello prod deploy freeze", { actor: { id: "ops-ann" } });
    expect(ok.reply.kind, ok.text).toBe("done");
    expect((await h.say("status hello prod", { actor: { id: "mallory" } })).text).toContain("locked by ops-ann (deploy freeze)");
  }, 300_000);
});

describe("the demo playbook (playbooks/examples) from the terminal", () => {
  it("anyone may deploy hello production; `lead` (RAPTOR_USER=lead), and not the OS user, may approve it", async () => {
    const pb = await loadPlaybooks(resolve(import.meta.dirname, "../../playbooks/examples"), { ...process.env, RAPTOR_DATA: await mkdtemp(join(tmpdir(), "raptor-demo-pb-")) });
    const production = environmentOf(pb, "hello", "production")!.environment;
    expect(production.approval.required).toBe(true);
    expect(await terminalAuthorizer.allowed({ id: "alice" }, accessList(production, "deploy"))).toBe(true);
    expect(await terminalAuthorizer.allowed({ id: "lead" }, accessList(production, "approve"))).toBe(true);
    expect(await terminalAuthorizer.allowed({ id: "alice" }, accessList(production, "approve"))).toBe(false);
  });
});

