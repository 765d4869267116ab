import { describe, expect, it } from "vitest";
import { deployRequestsText, whoDeployedText } from "../../bot/answers/history-text.ts";
import { escapeMrkdwn } from "../../bot/notify/block-kit.ts";
import { terminalText, toPlain } from "../../bot/notify/markup.ts";
import { renderTerminal } from "../../bot/notify/terminal-lines.ts";
import { reduceThread, type ThreadState } from "../../bot/notify/thread.ts";
import type { EngineEvent } from "../../engine/event-types.ts";
import { parseProcfile } from "../../engine/builds/procfile.ts";
import { logLineOf } from "../../engine/event-log.ts";
import { verbatim, verbatimParts, withoutVerbatimMarks } from "../../lib/verbatim.ts";
import { lockText } from "../../bot/answers/fleet.ts";
import { lockHeldText } from "../../engine/lock-held.ts";
import { redactingLogger } from "../../engine/redact.ts";

/**
 * Red-team L2 (2026-11-30): the terminal's markup stripping (terminalText, 5a672aa) rewrote app and
 * user text quoted inside Raptor's own messages: a Procfile line ``bad line `x` <!channel>`` was
 * shown as `bad line x <!channel>`, and `deploys` lost the backticks of what people typed. Foreign
 * text is marked (lib/verbatim.ts) and printed exactly as written; Raptor's own code spans still
 * lose their backticks.
 */
const PROCFILE_LINE = "bad line `x` <!channel>";

function procfileError(text: string): string {
  try {
    parseProcfile(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("foreign text inside Raptor's messages, in the terminal", () => {
  it("a Procfile line with backticks is shown as the app wrote it (the report's input)", () => {
    const message = procfileError(`web: node server.js\n${PROCFILE_LINE}\n`);
    expect(terminalText(message)).toBe(`Procfile line 2: expected <type>: <command>, got ${PROCFILE_LINE}`);
    // Slack and the logs read the same words, marks gone.
    expect(escapeMrkdwn(message)).toBe("Procfile line 2: expected `&lt;type&gt;: &lt;command&gt;`, got `bad line `x` &lt;!channel&gt;`");
    expect(withoutVerbatimMarks(message)).toBe(`Procfile line 2: expected \`<type>: <command>\`, got \`${PROCFILE_LINE}\``);
  });

  it("the failure line of the thread keeps the Procfile line's backticks", () => {
    const message = procfileError(PROCFILE_LINE);
    const at = new Date(0).toISOString();
    const events = [
      { type: "deployment.queued", deploymentId: "d-1", at, kind: "deploy", app: "evil", env: "local", requestedBy: "root", origin: "terminal", summary: "deploy evil local", steps: ["resolve", "build"], behind: [] },
      { type: "deployment.failed", deploymentId: "d-1", at, code: "build_failed", step: "build", message: `build of evil 1234567 failed: ${message}`, durationMs: 1200 },
    ] as EngineEvent[];
    let state: ThreadState | undefined;
    let lines: string[] = [];
    for (const e of events) {
      const next = reduceThread(state, e);
      lines = renderTerminal(state, next, e);
      state = next;
    }
    expect(lines.join("\n")).toContain(`got ${PROCFILE_LINE}`);
  });

  it("raptor.log keeps the words without the marks", () => {
    const line = logLineOf({ type: "step.failed", deploymentId: "d-1", at: new Date(0).toISOString(), step: "build", message: procfileError(PROCFILE_LINE), durationMs: 3 } as never);
    expect(line?.fields.reason).toBe(`Procfile line 1: expected \`<type>: <command>\`, got \`${PROCFILE_LINE}\``);
  });

  it("deploys and who deployed show what was typed as typed", () => {
    const now = new Date("2026-11-30T08:00:00Z");
    const asked = "lock hello local `moving` racks";
    const text = deployRequestsText([{ at: now, actor: "ann", asked, outcome: "refused", refusal: "`lock` takes a reason" }], now, "1d", "hello", "local");
    expect(terminalText(text).split("\n")[1]).toBe(`2026-11-30 08:00 UTC (0s ago) ann: ${asked} — refused: lock takes a reason`);
    const who = whoDeployedText("hello", "local", { deploymentId: "d-2", kind: "deploy", requestedBy: "ann", asked: "deploy hello local `v1`", finishedAt: now, release: 2 }, [], now);
    expect(terminalText(who)).toContain("(deploy hello local `v1`)");
    expect(toPlain(text)).not.toMatch(/[\uE000-\uE005]/);
  });

  it("a lock's reason is shown as typed, in status and in the refusal", () => {
    const lock = { heldBy: "ann", reason: "moving `racks`", expiresAt: null };
    expect(terminalText(lockText(lock))).toBe("locked by ann (moving `racks`) until unlocked");
    expect(terminalText(lockHeldText("hello", "local", lock, "bob", "other"))).toBe("hello local is locked by ann (moving `racks`). Ask them, or type unlock hello local when the reason is gone.");
  });

  it("raptor.log gets no marks", () => {
    const seen: unknown[] = [];
    const inner = { debug() {}, info: (o: object, m?: string) => void seen.push(o, m), warn() {}, error() {} };
    redactingLogger(inner, () => (t: string) => t).info({ reason: lockText({ heldBy: "ann", reason: "`x`", expiresAt: null }) }, verbatim("`y`"));
    expect(seen).toEqual([{ reason: "locked by ann (`x`) until unlocked" }, "`y`"]);
  });

  it("Raptor's own spans around nothing foreign are rendered as before", () => {
    expect(terminalText("type `help` for commands, `exit` to leave.")).toBe("type help for commands, exit to leave.");
  });

  it("foreign text cannot forge the marks", () => {
    const forged = verbatim("a\uE003 `b` \uE002c\uE000");
    expect(verbatimParts(forged)).toEqual([{ text: "a `b` c", verbatim: true }]);
    expect(terminalText(`got \`${forged}\` and \`d\``)).toBe("got a `b` c and d");
    // Slot characters typed by someone are dropped, not taken for a verbatim part.
    expect(terminalText("x \uE0040\uE005 `y`")).toBe("x 0 y");
  });
});
