import { describe, expect, it } from "vitest";
import { maskCommandText } from "../../bot/command-log.ts";
import { parse } from "../../bot/grammar.ts";
import { saidLines } from "../../bot/terminal-feed.ts";
import { hostLine } from "../../bot/answers/hosts-text.ts";
import { replayThread } from "../../bot/answers/show.ts";
import { fallbackText, headBlocks } from "../../bot/notify/blocks.ts";
import { renderTerminal } from "../../bot/notify/terminal-lines.ts";
import { reduceThread } from "../../bot/notify/thread.ts";
import type { EngineEvent, EngineEventBody } from "../../engine/event-types.ts";
import { answerBlocks } from "../../bot/notify/blocks.ts";
import { terminalText } from "../../bot/notify/markup.ts";
import { replyLines } from "../../bot/terminal.ts";
import { helpText } from "../../bot/help.ts";
import { lockHeldText } from "../../engine/lock-held.ts";
import { explain } from "../../engine/errors.ts";

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

describe("code spans: Slack shows them as code, the terminal without backticks", () => {
  const names = { apps: ["hello"], envs: { hello: ["local", "production"] } };
  // Parse errors from every part of the grammar (about half of the ~47 texts with a command in backticks).
  const typed = [
    "status",
    "deploy",
    "deploy to",
    "deploy hello to",
    "deploy @v1 to local",
    "dploy hello local",
    "hello",
    "config set hello local",
    "config set hello local GREETING",
    "config unset hello local",
    "config set",
    "scale hello local",
    "scale hello local web",
    "rollback hello local vX",
    "logs hello local web lots",
    "lock hello local 0m",
    "approve",
    "approve D-K3J9X2AB",
    "approve d-",
    "help nothing",
    "plan status hello",
    "promote hello",
    "promote hello local local",
    "deploys hello local since",
    "status hello local extra",
    "Hello",
  ];
  it.each(typed)("%s", (text) => {
    const parsed = parse(text, names);
    expect(parsed.ok).toBe(false);
    const error = parsed.ok ? "" : parsed.error;
    const lines = replyLines({ kind: "parse_error", text: error });
    expect(lines.join("\n")).not.toContain("`");
    // Slack: the same text, its code spans kept for mrkdwn to render.
    const slack = answerBlocks({ kind: "parse_error", text: error })[0]!;
    expect(slack.type === "section" ? slack.text.text : "").toContain(error.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;"));
  });

  it.each<[string, string, string]>([
    ["a refusal", lockHeldText("hello", "local", { heldBy: "ann", reason: "racks", expiresAt: null }, "bob", "other"), "hello local is locked by ann (racks). Ask them, or type unlock hello local when the reason is gone."],
    ["an engine error explained", explain("not_found", "hello local has no release v9. `releases hello local` lists them."), "releases hello local lists them"],
    ["help", helpText("deploy"), "deploy <app> [to] <env> [<ref>] — "],
    ["two spans, punctuation after", "e.g. `deploy hello local`, or `deploy! hello local`.", "e.g. deploy hello local, or deploy! hello local."],
    ["in brackets, at the start", "`true` exited 1 (see `hosts check`)", "true exited 1 (see hosts check)"],
  ])("%s", (_, text, shown) => {
    const out = replyLines({ kind: "refused", code: "invalid", text }).join("\n");
    expect(out).toContain(shown);
    expect(out).not.toMatch(/(^|[\s(])`[^`\n]+`/m);
  });

  it("answers lose them, app output keeps its backticks (logs, a replayed thread), a quoted word as typed keeps them", () => {
    expect(replyLines({ kind: "answer", title: "queue", text: "No deployment queued or running.\nmaintenance next: hosts in 20s (`beat` shows what each did)" })[2]).toBe("maintenance next: hosts in 20s (beat shows what each did)");
    const log = "── hello-local-v1-web-7000 on 127.0.0.1\nrun `npm start` to begin";
    expect(replyLines({ kind: "answer", title: "logs of hello local", text: log, verbatim: true }).slice(1)).toEqual(log.split("\n"));
    expect(terminalText('unknown command "`rm`". Type `help` for the list.')).toBe('unknown command "`rm`". Type help for the list.');
  });

  it("a thread: Raptor's message without backticks, the app's output as it was", () => {
    const at = "2026-11-30T12:00:00.000Z";
    const q = { type: "deployment.queued", kind: "deploy", app: "hello", env: "local", requestedBy: "ann", origin: "terminal", summary: "deploy hello local", steps: ["build"], behind: [], id: "1-1", deploymentId: "d-7", at } as EngineEvent;
    const f = { type: "deployment.failed", step: "build", code: "build_failed", message: "`bin/compile` exited 1 after 30 ms:\nnpm ERR! run `npm audit`", output: "npm ERR! run `npm audit`", durationMs: 40, id: "1-2", deploymentId: "d-7", at } as unknown as EngineEvent;
    const s1 = reduceThread(undefined, q);
    const lines = renderTerminal(s1, reduceThread(s1, f), f);
    expect(lines[0]).toBe("✗ Deploy hello local failed at build after 40ms (build_failed): bin/compile exited 1 after 30 ms:");
    expect(lines.join("\n")).toContain("npm ERR! run `npm audit`");
  });
});

describe("hosts: per host what the README says (state, last seen, last error, busy ports)", () => {
  const now = new Date("2026-11-30T06:42:00Z");
  const range = { from: 7000, to: 7099 };
  const up = { active: true, state: "up", stateSince: new Date("2026-11-30T06:00:00Z"), lastSeenAt: new Date("2026-11-30T06:41:40Z"), lastError: null, busyPorts: [], portsCheckedAt: new Date("2026-11-30T06:41:40Z") };
  it.each<[string, Parameters<typeof hostLine>[2], number, string]>([
    ["up, no port held: both said", up, 2, "  127.0.0.1: 2 procs; no busy ports (as of 2026-11-30 06:41 UTC) — up since 2026-11-30 06:00 UTC, last seen 2026-11-30 06:41 UTC (20s ago)"],
    [
      "up, ports held by other programs (one outside the range is not the squad's)",
      { ...up, busyPorts: [7001, 7003, 9000] },
      1,
      "  127.0.0.1: 1 proc; busy ports (held by other programs, skipped): 7001, 7003 as of 2026-11-30 06:41 UTC — up since 2026-11-30 06:00 UTC, last seen 2026-11-30 06:41 UTC (20s ago)",
    ],
    [
      "down: since when, last seen, and why",
      { ...up, state: "down", stateSince: new Date("2026-11-30T06:30:00Z"), lastSeenAt: new Date("2026-11-30T06:29:10Z"), lastError: "ssh: connect ECONNREFUSED 127.0.0.2:22" },
      0,
      "  127.0.0.1: 0 procs; no busy ports (as of 2026-11-30 06:41 UTC) — down since 2026-11-30 06:30 UTC, last seen 2026-11-30 06:29 UTC (13m ago); last error: ssh: connect ECONNREFUSED 127.0.0.2:22",
    ],
    ["down, never answered", { ...up, state: "down", lastSeenAt: null, lastError: "supervisord: 401 Unauthorized", portsCheckedAt: null }, 0, "  127.0.0.1: 0 procs; ports not checked yet — down since 2026-11-30 06:00 UTC, last seen never; last error: supervisord: 401 Unauthorized"],
    ["no row yet (the beat has not run)", undefined, 0, "  127.0.0.1: 0 procs; ports not checked yet — not checked yet"],
    ["inactive", { ...up, active: false }, 0, "  127.0.0.1: 0 procs (inactive); no busy ports (as of 2026-11-30 06:41 UTC) — up since 2026-11-30 06:00 UTC, last seen 2026-11-30 06:41 UTC (20s ago)"],
  ])("%s", (_, row, procs, line) => {
    expect(hostLine("127.0.0.1", procs, row, range, now)).toBe(line);
  });
});
