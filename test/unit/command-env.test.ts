import { describe, expect, it } from "vitest";
import { commandEnv } from "../../runners/local-host.ts";

describe("commandEnv: what a local command inherits", () => {
  const raptor = { PATH: "/usr/bin", HOME: "/root", LANG: "C.UTF-8", SLACK_BOT_TOKEN: "xoxb-1", DATABASE_URL: "postgres://u:p@db/raptor", NODE_OPTIONS: "--inspect" };
  const cases: [string, NodeJS.ProcessEnv, Record<string, string> | undefined, Record<string, string>][] = [
    ["keeps the base, drops Raptor's secrets", raptor, undefined, { PATH: "/usr/bin", HOME: "/root", LANG: "C.UTF-8" }],
    ["adds the command's env over the base", raptor, { PORT: "5000", PATH: "/app/bin" }, { PATH: "/app/bin", HOME: "/root", LANG: "C.UTF-8", PORT: "5000" }],
    ["only what is set", {}, { A: "1" }, { A: "1" }],
    ["all base keys", { PATH: "p", HOME: "h", LANG: "l", LC_ALL: "c", TMPDIR: "t", USER: "u", LOGNAME: "n", SHELL: "s", OTHER: "o" }, undefined, { PATH: "p", HOME: "h", LANG: "l", LC_ALL: "c", TMPDIR: "t", USER: "u", LOGNAME: "n", SHELL: "s" }],
  ];
  it.each(cases)("%s", (_, from, extra, expected) => {
    expect(commandEnv(from, extra)).toEqual(expected);
  });
});
