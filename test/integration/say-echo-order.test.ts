import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "../../bot/grammar.ts";
import { sayAndPublish } from "../../bot/say.ts";
import { allowAll, startHarness, type Harness } from "../support/raptor-harness.ts";
import { localHelloPlaybook } from "../support/playbook-yaml.ts";
import { openTerminalChat } from "../support/terminal-chat.ts";

/**
 * New-user trial: in `make run`'s chat, "✓ approved by lead" was printed before the echo of lead's
 * `bin/raptor say "approve d-…"`: the approval's event reached the chat's thread before the command
 * was published. A channel's order is the command, its reply, then what it caused in the thread.
 */
describe("make run's chat shows a say command before what it caused (real Postgres and Redis)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ playbookYaml: await localHelloPlaybook("raptor-echo-order-", ["gated: { squad: here, approval: { required: true, approvers: [lead] } }"]), authorizer: allowAll, workers: 0 });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("the echo of lead's `approve`, then its reply, then ✓ approved by lead", async () => {
    const deps = { engine: h.engine, authorizer: allowAll };
    const chat = await openTerminalChat(h.engine, allowAll, { id: "root" });
    // ann asks from another terminal (another pid than the chat's); the chat follows the thread.
    const ask = "config set hello gated GREETING=hi";
    const asked = await sayAndPublish(deps, { text: ask, actor: { id: "ann" }, parsed: parse(ask), pid: process.pid + 1 });
    expect(asked.kind).toBe("deployment");
    const id = (asked as { deploymentId: string }).deploymentId;
    await vi.waitUntil(() => chat.printed.includes("needs approval from lead"), { timeout: 15_000, interval: 20 });
    // lead approves from a third terminal.
    const approve = `approve ${id}`;
    const approved = await sayAndPublish(deps, { text: approve, actor: { id: "lead" }, parsed: parse(approve), pid: process.pid + 2 });
    expect(approved.kind).toBe("done");
    await vi.waitUntil(() => chat.printed.includes("✓ approved by lead") && chat.printed.includes(`── lead (raptor say): ${approve}`) && chat.printed.includes(`   ${(approved as { text: string }).text}`), { timeout: 15_000, interval: 20 });
    await chat.close();
    const lines = chat.lines();
    const echo = lines.indexOf(`── lead (raptor say): ${approve}`);
    const reply = lines.indexOf(`   ${(approved as { text: string }).text}`);
    const thread = lines.indexOf("  ✓ approved by lead");
    expect(echo, chat.printed).toBeGreaterThan(-1);
    expect([echo < reply, reply < thread], chat.printed).toEqual([true, true]);
  }, 60_000);

  /**
   * Trial finding 7: lead's `reject d-nb27cm37 not during the sale` printed the whole thread again
   * after its reply (the head, "now serving", the stale "needs approval … approve d-…" lines) and
   * the rejection a second time: the chat followed the decided deployment afresh, from its start,
   * although it had shown that thread already and the rejection had ended it.
   */
  it("a reject said elsewhere prints its echo, its reply and the rejection once, without the thread again", async () => {
    const deps = { engine: h.engine, authorizer: allowAll };
    const chat = await openTerminalChat(h.engine, allowAll, { id: "root" });
    const ask = "deploy hello gated";
    const asked = await sayAndPublish(deps, { text: ask, actor: { id: "root" }, parsed: parse(ask), pid: process.pid + 1 });
    const id = (asked as { deploymentId: string }).deploymentId;
    await vi.waitUntil(() => chat.printed.includes("needs approval from lead"), { timeout: 15_000, interval: 20 });
    const reject = `reject ${id} not during the sale`;
    const rejected = await sayAndPublish(deps, { text: reject, actor: { id: "lead" }, parsed: parse(reject), pid: process.pid + 2 });
    expect(rejected.kind).toBe("done");
    const verdict = "✗ Deploy hello gated rejected by lead: not during the sale";
    await vi.waitUntil(() => chat.printed.includes(verdict) && chat.printed.includes(`   ${(rejected as { text: string }).text}`), { timeout: 15_000, interval: 20 });
    // Long enough for a second follow of the thread from its start to print (it took ~100 ms).
    await new Promise((r) => setTimeout(r, 1500));
    await chat.close();
    const lines = chat.lines();
    expect(lines.filter((l) => l === verdict), chat.printed).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith("▶ Deploy hello gated")), chat.printed).toHaveLength(1);
    expect(lines.filter((l) => l.includes("needs approval from lead")), chat.printed).toHaveLength(1);
    const echo = lines.indexOf(`── lead (raptor say): ${reject}`);
    expect([echo > -1, echo < lines.indexOf(verdict)], chat.printed).toEqual([true, true]);
  }, 60_000);
});
