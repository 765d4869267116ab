import { describe, expect, it } from "vitest";
import { maskCommandText } from "../../bot/command-log.ts";
import { parse } from "../../bot/grammar.ts";
import { saidLines } from "../../bot/terminal-feed.ts";

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
