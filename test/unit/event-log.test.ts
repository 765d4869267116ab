import { describe, expect, it } from "vitest";
import { commandLogLine } from "../../bot/command-log.ts";
import { parse } from "../../bot/grammar.ts";
import type { Reply } from "../../bot/dispatch-types.ts";
import { logLineOf } from "../../engine/event-log.ts";
import type { EngineEvent, EngineEventBody } from "../../engine/event-types.ts";

const ev = (body: EngineEventBody): EngineEvent => ({ ...body, id: "1-0", deploymentId: "d-1", at: "2026-01-01T00:00:00Z" }) as EngineEvent;

describe("raptor.log lines of engine events (issue 11 item 13)", () => {
  it.each([
    [{ type: "step.started", step: "build" }, "info", { step: "build" }],
    [{ type: "step.finished", step: "build", durationMs: 812 }, "info", { step: "build", durationMs: 812 }],
    [{ type: "step.failed", step: "uptest", durationMs: 30, message: "web:7001 answered 500" }, "warn", { step: "uptest", reason: "web:7001 answered 500" }],
    [{ type: "deployment.failed", code: "uptest_failed", message: "1 of 2 procs failed", step: "uptest", durationMs: 900 }, "error", { code: "uptest_failed", reason: "1 of 2 procs failed" }],
    [{ type: "deployment.queued", kind: "deploy", app: "hello", env: "local", requestedBy: "U1", origin: "terminal", summary: "deploy hello local", steps: ["resolve"], behind: [] }, "info", { app: "hello", env: "local", requestedBy: "U1", origin: "terminal" }],
    [{ type: "deployment.succeeded", release: 3, hosts: [{ host: "h", procs: ["web:1", "web:2"] }], durationMs: 5 }, "info", { release: 3, procs: 2, durationMs: 5 }],
  ] as [EngineEventBody, string, Record<string, unknown>][])("%o is logged at %s", (body, level, fields) => {
    const line = logLineOf(ev(body))!;
    expect(line.level).toBe(level);
    expect(line.fields).toMatchObject({ deploymentId: "d-1", event: body.type, ...fields });
  });

  it.each([
    { type: "step.log", step: "build", title: "build log", text: "npm install ..." },
    { type: "step.progress", step: "build", message: "building: x" },
  ] as EngineEventBody[])("leaves the thread's own chatter out: %o", (body) => {
    expect(logLineOf(ev(body))).toBeUndefined();
  });
});

describe("raptor.log lines of chat commands", () => {
  const req = (text: string) => ({ text, actor: { id: "U_ANA" }, origin: "slack:C1:1.2", channel: { id: "C1", name: "hello" } });
  const ctx = { apps: ["hello"], envs: { hello: ["local"] } };
  const queued: Reply = { kind: "deployment", deploymentId: "d-9", text: "d-9 is queued." };

  it.each([
    // text typed, reply, fields expected
    ["deploy hello local", queued, { actor: "U_ANA", origin: "slack:C1:1.2", channel: "hello", command: "deploy", app: "hello", env: "local", text: "deploy hello local", outcome: "deployment", deploymentId: "d-9" }],
    ["config set hello local API_TOKEN=tok-123456 GREETING=howdy", queued, { command: "config-set", text: "config set hello local API_TOKEN=… GREETING=howdy" }],
    ["config secret hello local GREETING=howdy-partner", queued, { command: "config-set", text: "config secret hello local GREETING=…" }],
    ["config set hello local DB=postgres://u:pw@db/x", queued, { text: "config set hello local DB=…" }],
    ["lock hello local release day", { kind: "done", text: "locked" }, { command: "lock", outcome: "done", text: "lock hello local release day" }],
    ["deploy hello local", { kind: "refused", code: "lock_held", text: "locked" }, { outcome: "refused", code: "lock_held" }],
  ] as [string, Reply, Record<string, unknown>][])("%s", (text, reply, fields) => {
    const line = commandLogLine(req(text), parse(text, ctx), reply, 12, undefined, ctx);
    expect(line.level).toBe("info");
    expect(line.fields).toMatchObject({ ...fields, ms: 12 });
  });

  it("does not log text it could not parse (a mistyped config set may hold a secret), only its first word and length", () => {
    const text = "config sett hello local API_TOKEN=tok-123456";
    const line = commandLogLine(req(text), parse(text, ctx), { kind: "parse_error", text: "?" }, 1);
    expect(JSON.stringify(line)).not.toContain("tok-123456");
    expect(line.fields).toMatchObject({ command: "unparsed", verb: "config", length: text.length, outcome: "parse_error" });
  });

  it("an answer that threw is an error line", () => {
    expect(commandLogLine(req("apps"), parse("apps", ctx), undefined, 3)).toMatchObject({ level: "error", fields: { command: "apps", outcome: "internal_error" } });
  });
});
