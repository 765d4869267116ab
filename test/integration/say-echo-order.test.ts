import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "../../bot/grammar.ts";
import { sayAndPublish } from "../../bot/say.ts";
import { runRepl } from "../../bot/terminal.ts";
import { feedChannel } from "../../bot/terminal-feed.ts";
import { allowAll, REDIS_URL, startHarness, type Harness } from "../support/raptor-harness.ts";

/**
 * New-user trial: in `make run`'s chat, "✓ approved by lead" was printed before the echo of lead's
 * `bin/raptor say "approve d-…"`: the approval's event reached the chat's thread before the command
 * was published. A channel's order is the command, its reply, then what it caused in the thread.
 */
describe("make run's chat shows a say command before what it caused (real Postgres and Redis)", () => {
  let h: Harness;
  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), "raptor-echo-order-"));
    const pb = [
      "squads:",
      `  here: { hosts: [127.0.0.1], transport: local, supervisor: { url: 'http://127.0.0.1:9/RPC2', username: u, password: p }, ports: 7000-7010, root: ${root} }`,
      "apps:",
      "  hello:",
      `    repo: ${JSON.stringify(root)}`,
      "    environments:",
      "      gated: { squad: here, approval: { required: true, approvers: [lead] } }",
    ].join("\n");
    h = await startHarness({ playbookYaml: { "pb.yaml": pb }, authorizer: allowAll, workers: 0 });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("the echo of lead's `approve`, then its reply, then ✓ approved by lead", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (d) => (printed += String(d)));
    const conns: Redis[] = [];
    const deps = { engine: h.engine, authorizer: allowAll };
    const repl = runRepl({ ...deps, connection: () => (conns.push(new Redis(REDIS_URL)), conns.at(-1)!) }, { id: "root" }, { input, output });
    const probe = new Redis(REDIS_URL);
    await vi.waitUntil(async () => ((await probe.pubsub("NUMSUB", feedChannel(h.engine.prefix))) as [string, number])[1] > 0, { timeout: 10_000, interval: 50 });
    await probe.quit();
    // ann asks from another terminal (another pid than the chat's); the chat follows the thread.
    const ask = "config set hello gated GREETING=hi";
    const asked = await sayAndPublish(deps, { text: ask, actor: { id: "ann" }, parsed: parse(ask), pid: process.pid + 1 });
    expect(asked.kind).toBe("deployment");
    const id = (asked as { deploymentId: string }).deploymentId;
    await vi.waitUntil(() => printed.includes("needs approval from lead"), { timeout: 15_000, interval: 20 });
    // lead approves from a third terminal.
    const approve = `approve ${id}`;
    const approved = await sayAndPublish(deps, { text: approve, actor: { id: "lead" }, parsed: parse(approve), pid: process.pid + 2 });
    expect(approved.kind).toBe("done");
    await vi.waitUntil(() => printed.includes("✓ approved by lead") && printed.includes(`── lead (raptor say): ${approve}`) && printed.includes(`   ${(approved as { text: string }).text}`), { timeout: 15_000, interval: 20 });
    input.end();
    await repl;
    for (const c of conns) c.disconnect();
    // Each line is written over the prompt ("\r"); a prompt left on a line of its own is not a line.
    const lines = printed.split("\n").map((l) => l.slice(l.lastIndexOf("\r") + 1).replace(/^(raptor> )+/, ""));
    const echo = lines.indexOf(`── lead (raptor say): ${approve}`);
    const reply = lines.indexOf(`   ${(approved as { text: string }).text}`);
    const thread = lines.indexOf("  ✓ approved by lead");
    expect(echo, printed).toBeGreaterThan(-1);
    expect([echo < reply, reply < thread], printed).toEqual([true, true]);
  }, 60_000);

  /**
   * Trial finding 7: lead's `reject d-nb27cm37 not during the sale` printed the whole thread again
   * after its reply (the head, "now serving", the stale "needs approval … approve d-…" lines) and
   * the rejection a second time: the chat followed the decided deployment afresh, from its start,
   * although it had shown that thread already and the rejection had ended it.
   */
  it("a reject said elsewhere prints its echo, its reply and the rejection once, without the thread again", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (d) => (printed += String(d)));
    const conns: Redis[] = [];
    const deps = { engine: h.engine, authorizer: allowAll };
    const repl = runRepl({ ...deps, connection: () => (conns.push(new Redis(REDIS_URL)), conns.at(-1)!) }, { id: "root" }, { input, output });
    const probe = new Redis(REDIS_URL);
    await vi.waitUntil(async () => ((await probe.pubsub("NUMSUB", feedChannel(h.engine.prefix))) as [string, number])[1] > 0, { timeout: 10_000, interval: 50 });
    await probe.quit();
    const ask = "deploy hello gated";
    const asked = await sayAndPublish(deps, { text: ask, actor: { id: "root" }, parsed: parse(ask), pid: process.pid + 1 });
    const id = (asked as { deploymentId: string }).deploymentId;
    await vi.waitUntil(() => printed.includes("needs approval from lead"), { timeout: 15_000, interval: 20 });
    const reject = `reject ${id} not during the sale`;
    const rejected = await sayAndPublish(deps, { text: reject, actor: { id: "lead" }, parsed: parse(reject), pid: process.pid + 2 });
    expect(rejected.kind).toBe("done");
    const verdict = "✗ Deploy hello gated rejected by lead: not during the sale";
    await vi.waitUntil(() => printed.includes(verdict) && printed.includes(`   ${(rejected as { text: string }).text}`), { timeout: 15_000, interval: 20 });
    // Long enough for a second follow of the thread from its start to print (it took ~100 ms).
    await new Promise((r) => setTimeout(r, 1500));
    input.end();
    await repl;
    for (const c of conns) c.disconnect();
    const lines = printed.split("\n").map((l) => l.slice(l.lastIndexOf("\r") + 1).replace(/^(raptor> )+/, ""));
    expect(lines.filter((l) => l === verdict), printed).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith("▶ Deploy hello gated")), printed).toHaveLength(1);
    expect(lines.filter((l) => l.includes("needs approval from lead")), printed).toHaveLength(1);
    const echo = lines.indexOf(`── lead (raptor say): ${reject}`);
    expect([echo > -1, echo < lines.indexOf(verdict)], printed).toEqual([true, true]);
  }, 60_000);
});
