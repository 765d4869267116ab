import { describe, expect, it } from "vitest";
import { maskCommandText } from "../../bot/command-log.ts";
import { parse } from "../../bot/grammar.ts";
import { saidLines } from "../../bot/terminal-feed.ts";
import { replayThread } from "../../bot/answers/show.ts";
import { fallbackText, headBlocks } from "../../bot/notify/blocks.ts";
import { renderTerminal } from "../../bot/notify/terminal-lines.ts";
import { reduceThread } from "../../bot/notify/thread.ts";
import type { EngineEvent, EngineEventBody } from "../../engine/event-types.ts";

/** The last new-user trial (README followed literally, `make run` and `bin/raptor say` side by side): its minor findings. */

describe("the echo of a command not understood ends in … only when something was cut", () => {
  it.each<[string, string]>([
    ["status", "status"],
    ["  status  ", "status"],
    ["deploy", "deploy"],
    ["config secrte hello local NOTE=opensesame", "config …"],
    ["status hello local extra words", "status …"],
    [`${"x".repeat(45)}`, `${"x".repeat(40)} …`],
    ["", ""],
  ])("%j → %j", (typed, echo) => {
    const parsed = parse(typed);
    expect(parsed.ok).toBe(false);
    expect(maskCommandText(typed, parsed)).toBe(echo);
  });
  it("as the make run chat prints it", () => {
    expect(saidLines({ actor: "root", text: maskCommandText("status", parse("status")), lines: ["✗ status needs an app"], pid: 1 })[0]).toBe("── root (raptor say): status");
  });
});

describe("a thread is titled by what was asked: a promote is a Promote, not a Deploy", () => {
  const at = "2026-11-30T12:00:00.000Z";
  const one = (body: EngineEventBody, id: string): EngineEvent => ({ ...body, id, deploymentId: "d-7", at }) as EngineEvent;
  it.each<[string, Partial<Extract<EngineEventBody, { type: "deployment.queued" }>>, string]>([
    ["deploy hello production", { kind: "deploy" }, "Deploy"],
    ["promote hello staging production", { kind: "deploy", promotedFrom: "staging" }, "Promote"],
    ["rollback hello production", { kind: "rollback" }, "Rollback"],
    ["scale hello production web=2", { kind: "scale" }, "Scale"],
    ["restart hello production", { kind: "restart" }, "Restart"],
    ["config set hello production GREETING=hi", { kind: "config" }, "Config change"],
    ["(the beat's reconcile)", { kind: "repair" }, "Repair"],
  ])("%s → %s", (summary, more, verb) => {
    const queued = one({ type: "deployment.queued", kind: "deploy", app: "hello", env: "production", requestedBy: "ann", origin: "terminal", summary, steps: ["resolve"], behind: [], ...more }, "1-1");
    const done = one({ type: "deployment.succeeded", durationMs: 1200, hosts: [] } as unknown as EngineEventBody, "1-2");
    const s1 = reduceThread(undefined, queued);
    const s2 = reduceThread(s1, done);
    // The terminal's head and outcome lines, Slack's head and notification text, show's title.
    expect(renderTerminal(undefined, s1, queued)[0]).toMatch(new RegExp(`^▶ ${verb} hello production — ann asked: `));
    expect(renderTerminal(s1, s2, done)[0]).toMatch(new RegExp(`^✓ ${verb} hello production`));
    const head = headBlocks(s1)[0]!;
    expect(head.type === "section" ? head.text.text : "").toMatch(new RegExp(`^\\*${verb}\\* \`hello\` to \`production\``));
    expect(fallbackText(s1)).toBe(`${verb} hello to production: queued`);
    expect(replayThread([queued, done]).lines[0]).toMatch(new RegExp(`^▶ ${verb} `));
  });
});

