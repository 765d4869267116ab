import { describe, expect, it } from "vitest";
import { accessList, actionFor, type AccessAction } from "../../bot/access.ts";
import type { Command } from "../../bot/command.ts";
import type { Access, Environment } from "../../playbooks/types.ts";

function env(access: Access, approvers?: string[]): Environment {
  return {
    name: "production",
    app: "web",
    squad: "prod",
    ref: "main",
    size: { web: 1 },
    ingredients: [],
    env: {},
    settings: {},
    drain_ms: 0,
    uptest_timeout_ms: 60_000,
    startsecs: 1,
    listen: ["web"],
    access,
    approval: { required: true, timeout_ms: 60_000, ...(approvers ? { approvers } : {}) },
    freeze: [],
    channels: [],
  };
}

describe("actionFor: what each command needs", () => {
  const cases: [Command["kind"], AccessAction | undefined][] = [
    ["deploy", "deploy"],
    ["restart", "deploy"],
    ["cancel", "deploy"],
    ["rollback", "rollback"],
    ["scale", "scale"],
    ["config-set", "config"],
    ["config-unset", "config"],
    ["lock", "lock"],
    ["unlock", "lock"],
    ["approve", "approve"],
    ["reject", "approve"],
    ["logs", "read"],
    ["config", "read"],
    ["status", undefined],
    ["releases", undefined],
    ["apps", undefined],
    ["hosts", undefined],
    ["queue", undefined],
    ["help", undefined],
  ];
  it.each(cases)("%s -> %s", (kind, action) => {
    expect(actionFor(kind)).toBe(action);
  });
});

describe("accessList: who may, with its fallbacks (empty = anyone)", () => {
  const cases: [string, Environment, AccessAction, string[]][] = [
    ["deploy as written", env({ deploy: ["@deployers"] }), "deploy", ["@deployers"]],
    ["no lists at all: anyone", env({}), "deploy", []],
    ["read falls back to deploy", env({ deploy: ["@deployers"] }), "read", ["@deployers"]],
    ["read as written", env({ deploy: ["@deployers"], read: ["@oncall"] }), "read", ["@oncall"]],
    ["read with no lists: anyone", env({}), "read", []],
    ["scale falls back to deploy", env({ deploy: ["@deployers"] }), "scale", ["@deployers"]],
    ["config as written", env({ deploy: ["@deployers"], config: ["@leads"] }), "config", ["@leads"]],
    ["approvers win", env({ deploy: ["@deployers"], approve: ["@leads"] }, ["U0BOSS"]), "approve", ["U0BOSS"]],
    ["then access.approve", env({ deploy: ["@deployers"], approve: ["@leads"] }), "approve", ["@leads"]],
    ["no approvers: the deploy list, not anyone", env({ deploy: ["@deployers"] }), "approve", ["@deployers"]],
    ["empty approver lists count as none", env({ deploy: ["@deployers"], approve: [] }, []), "approve", ["@deployers"]],
    ["no approvers and no deploy list: anyone", env({}), "approve", []],
  ];
  it.each(cases)("%s", (_, environment, action, expected) => {
    expect(accessList(environment, action)).toEqual(expected);
  });
});
