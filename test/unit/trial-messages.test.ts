import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { withoutVerbatimMarks } from "../../lib/verbatim.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cuttingDeployment, deployRequestsText, rangeBase, refusalReason } from "../../bot/answers/history-text.ts";
import { planText } from "../../bot/answers/plan-text.ts";
import { queuedDeployment, queueText } from "../../bot/answers/queue.ts";
import { COMMAND_HELP, helpText } from "../../bot/help.ts";
import { readFileSync } from "node:fs";
import { renderTerminal } from "../../bot/notify/terminal-lines.ts";
import { reduceThread } from "../../bot/notify/thread.ts";
import type { ChangePlan } from "../../engine/changes/plan.ts";
import type { EngineEvent } from "../../engine/event-types.ts";
import { durationText, utcTime, utcTimeEnd, utcTimeFrom } from "../../lib/time-text.ts";
import { lockText } from "../../bot/answers/fleet.ts";
import { unsetProblem } from "../../engine/preflight.ts";
import { lockHeldText } from "../../engine/lock-held.ts";
import { makeRunHint, makeRunIsRunning } from "../../bin/make-run-hint.ts";

/** Issue 11, the new-user trial's findings on what the chat says (fresh clone, `make run` + `bin/raptor say`). */
const now = new Date("2026-11-30T12:00:00Z");

describe("one time format: `2026-11-30 03:25 UTC`, with how long ago or how soon", () => {
  it.each([
    [new Date("2026-11-30T11:58:00Z"), "2026-11-30 11:58 UTC (2m ago)"],
    [new Date("2026-11-30T09:00:00Z"), "2026-11-30 09:00 UTC (3h ago)"],
    [new Date("2026-11-30T12:00:30Z"), "2026-11-30 12:00 UTC (in 30s)"],
    [new Date("2026-12-02T12:00:00Z"), "2026-12-02 12:00 UTC (in 2d)"],
  ])("%s", (d, text) => {
    expect(utcTimeFrom(d, now)).toBe(text);
  });
  it.each([
    [new Date("2026-11-30T04:33:33.000Z"), "2026-11-30 04:34 UTC"],
    [new Date("2026-11-30T04:33:00.000Z"), "2026-11-30 04:33 UTC"],
    [new Date("2026-11-30T23:59:00.001Z"), "2026-12-01 00:00 UTC"],
  ])("an end (a timed lock's) is rounded up, never shown earlier than it is: %s", (d, text) => {
    expect(utcTimeEnd(d)).toBe(text);
  });
  it("status shows `lock hello local 1m` taken at 04:32:33 as held until 04:34, not 04:33", () => {
    expect(lockText({ heldBy: "root", reason: null, expiresAt: new Date("2026-11-30T04:33:33.000Z") })).toBe("locked by root until 2026-11-30 04:34 UTC");
  });
  it.each([
    [3_000, "3s"],
    [90_000, "90s"],
    [5_400_000, "90m"],
    [7_200_000, "2h"],
    [2 * 86_400_000, "2d"],
  ])("a configured duration (the beat's stuck_after) is said exactly as a playbook writes it: %i ms is %s, never '0 minutes'", (ms, text) => {
    expect(durationText(ms)).toBe(text);
  });
  it("to the minute, UTC stated", () => {
    expect(utcTime(new Date("2026-11-30T03:25:59.900Z"))).toBe("2026-11-30 03:25 UTC");
  });
});

describe("deploys: a refused request shows the command as typed and why, in words", () => {
  it.each([
    ["hello local is locked by ann (moving racks) until 2026-11-30 03:28 UTC. Ask them, or type `unlock hello local` when the reason is gone.", "locked by ann (moving racks) until 2026-11-30 03:28 UTC"],
    ["hello production is frozen until 2026-12-27 00:00 UTC (2026-12-24 - 2026-12-26, UTC). `deploy! hello production` skips it.", "frozen until 2026-12-27 00:00 UTC (2026-12-24 - 2026-12-26, UTC)"],
    ["you may not deploy hello local. Who may: @leads.", "you may not deploy hello local"],
    ["there is no release v99 of hello local: the newest is v3.", "there is no release v99 of hello local: the newest is v3"],
  ])("%s", (told, reason) => {
    expect(refusalReason(told, { app: "hello", env: told.startsWith("hello production") ? "production" : "local" })).toBe(reason);
  });
  it("the line names the command and the reason, not `deploy` and an error code", () => {
    const text = deployRequestsText(
      [{ at: new Date("2026-11-30T11:59:47Z"), actor: "root", asked: "deploy hello local", outcome: "refused", refusal: "locked by root (trying the timer) until 2026-11-30 12:01 UTC" }],
      now,
      "7d",
      "hello",
      "local",
    );
    expect(withoutVerbatimMarks(text).split("\n")[1]).toBe("2026-11-30 11:59 UTC (13s ago) root: `deploy hello local` — refused: locked by root (trying the timer) until 2026-11-30 12:01 UTC");
  });
});

describe("the terminal's thread", () => {
  it("the first release says so, not `changes v- → v1`", () => {
    const base = { deploymentId: "d-1", at: "2026-11-30T12:00:00.000Z" };
    const queued = { ...base, id: "1-1", type: "deployment.queued", kind: "deploy", app: "hello", env: "local", requestedBy: "root", origin: "terminal", summary: "deploy hello local", steps: ["resolve"], behind: [] } as EngineEvent;
    const changes = { ...base, id: "1-2", type: "deployment.changes", toRelease: 1, config: { added: [{ key: "LOG_LEVEL", value: "info" }], changed: [], removed: [] } } as EngineEvent;
    const s1 = reduceThread(undefined, queued);
    const lines = renderTerminal(s1, reduceThread(s1, changes), changes);
    expect(lines[0]).toBe("  changes: first release, v1:");
    expect(lines.join("\n")).not.toContain("v-");
  });
});

describe("plan deploy of a working copy", () => {
  const plan: ChangePlan = {
    kind: "deploy",
    app: "hello",
    env: "local",
    serving: { number: 1, commit: "81ea2a8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
    target: { commit: "81ea2a8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", source: "working copy of /srv/raptor/examples/hello" },
    unchanged: true,
    procs: { start: [], stop: [], poolAdd: [], poolRemove: [] },
    obstacles: [],
    notes: [],
  };
  it("names the working copy it would ship, not a branch", () => {
    const { text } = planText(plan, "deploy hello local");
    expect(text.split("\n")[0]).toBe("v1 (81ea2a8) → working copy of /srv/raptor/examples/hello → 81ea2a8 (already serving)");
    expect(text).toContain("procs: none start or stop");
  });  it("a command with a masked secret is not offered as the command to run (pasted, it would set [REDACTED])", () => {
    const asked = "config set hello local GREETING=hi API_TOKEN=[REDACTED]";
    const last = planText({ ...plan, kind: "config" }, asked, true).text.split("\n").at(-1)!;
    expect(last).not.toContain("[REDACTED]");
    expect(last).toBe("Nothing was run. To do it: the same command without `plan`, with the values you typed (secret values are masked above).");
    expect(planText(plan, "deploy hello local").text.split("\n").at(-1)).toBe("Nothing was run. To do it: `deploy hello local`");
  });
  // Trial 2, M1: `plan rollback hello local v7` (v7 never served) offered the refused plain command.
  it.each([
    ["rollback", "rollback hello local v7", "rollback! hello local v7"],
    ["scale", "scale hello local web=0", "scale! hello local web=0"],
    ["deploy", "deploy hello local main", "deploy! hello local main"],
  ] as const)("where a %s needs confirming, the `!` form is the command offered", (kind, asked, confirm) => {
    const last = planText({ ...plan, kind, obstacles: ["needs confirming"], confirm }, asked).text.split("\n").at(-1);
    expect(last).toBe(`Nothing was run. To do it: \`${confirm}\``);
  });
});

describe("queue shows the beat's maintenance jobs", () => {
  it("between runs: when each runs next", () => {
    const text = queueText([], [], [{ job: "hosts", at: new Date("2026-11-30T12:01:00Z") }, { job: "reconcile", at: new Date("2026-11-30T12:00:30Z") }], now);
    expect(text.split("\n")).toEqual(["No deployment queued or running.", "maintenance next: reconcile in 30s, hosts in 60s (`beat` shows what each did)"]);
  });
  it("a running maintenance job and an open deployment", () => {
    const d = { id: "d-1", status: "running", kind: "deploy", app: "hello", env: "local", requestedBy: "root", createdAt: new Date("2026-11-30T11:59:00Z") };
    expect(queueText([d], ["m-1  running  maintenance prune"], [], now).split("\n")).toEqual(["d-1  running  deploy hello local  by root  since 2026-11-30 11:59 UTC (60s ago)", "m-1  running  maintenance prune"]);
  });
  // Trial 2, L3: `promote hello local production`, then `queue` read "deploy hello production".
  it.each([
    ["deploy", {}, "deploy hello production"],
    ["deploy", { promote: { env: "local" } }, "promote hello production from local"],
    ["rollback", { release: 3 }, "rollback hello production"],
    ["config", { vars: {} }, "config change hello production"],
    ["scale", { scale: { web: 2 } }, "scale hello production"],
    ["restart", {}, "restart hello production"],
    ["repair", {}, "repair hello production"],
  ] as const)("a %s row %j is named as its thread names it", (kind, params, label) => {
    const row = { id: "d-p", status: "awaiting_approval", kind, params: params as { promote?: { env: string } }, app: "hello", env: "production", requestedBy: "root", createdAt: new Date("2026-11-30T11:59:00Z") };
    expect(queueText([queuedDeployment(row)], [], [], now)).toBe(`d-p  awaiting approval  ${label}  by root  since 2026-11-30 11:59 UTC (60s ago)`);
  });
});

describe("help", () => {
  it("its examples run on the demo playbook: hello is a working copy (no ref) with environments local and production", () => {
    const all = [helpText(), ...["deploy", "plan", "promote"].map((t) => helpText(t))].join("\n");
    expect(all).not.toContain("deploy hello local main");
    expect(all).not.toMatch(/hello staging/);
    expect(helpText("promote")).toContain("e.g. `promote hello local production`");
  });
  it("says refs follow git's rules, not only letters, digits, ., _, -, /", () => {
    const text = helpText("deploy");
    expect(text).not.toContain("letters, digits, `.`, `_`, `-`, `/`");
    expect(text).toContain("git check-ref-format");
    expect(text).toContain("v1.0.0+build.5");
  });
  it("lists `config secret`", () => {
    expect(helpText()).toContain("`config secret <app> <env> KEY=VALUE ...`");
    expect(helpText("config-secret")).toContain("masked everywhere");
  });
});

describe("`raptor say` without `make run`", () => {
  it("says make run is not running and how to start it (embedded set-up only)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raptor-hint-"));
    try {
      expect(makeRunIsRunning(dir)).toBe(false);
      await writeFile(join(dir, "run.pid"), "4242\n");
      expect(makeRunIsRunning(dir, () => false)).toBe(false);
      expect(makeRunIsRunning(dir, (pid) => pid === 4242)).toBe(true);
      expect(makeRunHint({ running: false })).toMatch(/`make run` is not running.*Start it in another terminal with `make run`/);
      expect(makeRunHint({ running: true })).toBeUndefined();
      // Issue 11: make run on RAPTOR_SUPERVISOR_PORT=9031 was hinted as 9001 (another user's supervisord).
      expect(makeRunHint({ running: false })).toContain("127.0.0.1:9001");
      expect(makeRunHint({ running: false, supervisorPort: "9031" })).toContain("127.0.0.1:9031");
      expect(makeRunHint({ running: false, databaseUrl: "postgres://db/raptor" })).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("releases: a release's commit range starts at the last release that served", () => {
  const v = (n: number, commit: string) => ({ release: { id: `r${n}`, number: n }, commit });
  const newestFirst = [v(6, "33086f9"), v(5, "85b14db"), v(4, "1a2b3c4"), v(3, "0f0f0f0")];
  it.each([
    ["after a failed v5, v6 is measured from v4", 0, ["r4", "r3"], "r4"],
    ["the failed v5 itself from v4", 1, ["r4", "r3"], "r4"],
    ["v4 from v3", 2, ["r4", "r3"], "r3"],
    ["none older served: no range", 0, [], undefined],
  ])("%s", (_name, i, served, base) => {
    expect(rangeBase(newestFirst, i, new Set(served))?.release.id).toBe(base);
  });
});

describe("releases names the deployment that cut each release", () => {
  it("not the last one that ran it (a repair or scale of the same release)", () => {
    const newestFirst = [
      { id: "d-repair", kind: "repair" },
      { id: "d-scale", kind: "scale" },
      { id: "d-cut", kind: "deploy" },
    ];
    expect(cuttingDeployment(newestFirst)?.id).toBe("d-cut");
    expect(cuttingDeployment([{ id: "d-r2", kind: "rollback" }, { id: "d-s", kind: "scale" }])?.id).toBe("d-r2");
    expect(cuttingDeployment([{ id: "d-s2", kind: "scale" }, { id: "d-s1", kind: "scale" }])?.id).toBe("d-s1");
    expect(cuttingDeployment([])).toBeUndefined();
  });
});

describe("`config unset` of a key that is not set is refused before anything is queued", () => {
  it.each([
    [["NOPE"], ["GREETING", "API_TOKEN"], [], "NOPE is not set in hello local, so there is nothing to unset. Its keys set with `config set`: API_TOKEN, GREETING."],
    [["GREETNG"], ["GREETING"], [], "GREETNG is not set in hello local, so there is nothing to unset. Did you mean `GREETING`? Its keys set with `config set`: GREETING."],
    [["LOG_LEVEL", "NOPE"], [], ["LOG_LEVEL"], "LOG_LEVEL, NOPE are not set in hello local, so there is nothing to unset. No key of it was set with `config set`. LOG_LEVEL comes from the playbook's `env:`; change it there."],
  ])("%j", (keys, set, fromPlaybook, text) => {
    expect(unsetProblem("hello", "local", keys, set, fromPlaybook)).toBe(text);
  });
  it("keys that are all set pass", () => {
    expect(unsetProblem("hello", "local", ["GREETING"], ["GREETING", "API_TOKEN"], [])).toBeUndefined();
  });
});

describe("the README agrees with help and the demo app", () => {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const commands = readme.slice(readme.indexOf("## Commands"), readme.indexOf("## Playbooks"));
  it.each(COMMAND_HELP.map((e) => [e.topic, e.usage.split(/ [<[]/)[0]!]))("the command table has %s", (_topic, words) => {
    expect(commands).toContain(words);
  });
  it("examples/hello/server.js points to text the README has", () => {
    const server = readFileSync(join(import.meta.dirname, "../../examples/hello/server.js"), "utf8");
    const quoted = [...server.matchAll(/README[^"\n]*"([^"]+)"(?:: "([^"…]+))?/g)];
    expect(quoted.length).toBeGreaterThan(0);
    for (const [, section, text] of quoted) {
      expect(readme).toContain(`## ${section}`);
      if (text) expect(readme).toContain(text.trim());
    }
  });
});

describe("a held lock, told to its own holder", () => {
  const lock = { heldBy: "root", reason: "testing the lock", expiresAt: new Date("2026-11-30T04:33:33Z") };
  it.each([
    ["`lock` by the holder: already held, unlock first", "root", "lock", "you hold this lock already on hello local (testing the lock) until 2026-11-30 04:34 UTC; `unlock hello local` first to change it."],
    ["a deploy by the holder: not `Ask them`", "root", "other", "hello local is locked by root (testing the lock) until 2026-11-30 04:34 UTC. That is you: `unlock hello local` first."],
    ["someone else: ask the holder", "ann", "lock", "hello local is locked by root (testing the lock) until 2026-11-30 04:34 UTC. Ask them, or type `unlock hello local` when the reason is gone."],
  ] as const)("%s", (_name, asker, asking, text) => {
    expect(withoutVerbatimMarks(lockHeldText("hello", "local", lock, asker, asking))).toBe(text);
  });
});
