import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parse } from "../../bot/grammar.ts";
import { isRef, refProblem } from "../../lib/names.ts";

/**
 * One ref rule for every layer (lib/names.ts), and it is git's: each row is also put to
 * `git check-ref-format --branch`, so the table cannot drift from what git accepts.
 */
const ROWS: [ref: string, problem: string | undefined][] = [
  ["v1.0.0+build.5", undefined],
  ["renovate/@babel/core-7.x", undefined],
  ["@scope/pkg", undefined],
  ["dependabot/npm_and_yarn/@types/node-20.1.0", undefined],
  ["feature/x", undefined],
  ["it's-done", undefined],
  ["#123", undefined],
  ["a@b", undefined],
  ["main", undefined],
  ["v1@{1}", 'it contains "@{"'],
  ["a..b", 'it contains ".."'],
  ["a~1", '"~" is not allowed'],
  ["HEAD^", '"^" is not allowed'],
  ["a:b", '":" is not allowed'],
  ["a?", '"?" is not allowed'],
  ["a*", '"*" is not allowed'],
  ["a[1]", '"[" is not allowed'],
  ["a\\b", '"\\" is not allowed'],
  ["a b", "it contains a space"],
  ["a\tb", "it contains a control character (U+0009)"],
  ["a\u007fb", "it contains a control character (U+007F)"],
  ["-v", 'it can\'t start with "-"'],
  [".hidden", 'it can\'t start with "."'],
  ["x/.h", 'no part of it may start with "."'],
  ["x.lock", 'it can\'t end with ".lock"'],
  ["x.lock/y", 'no part of it may end with ".lock"'],
  ["x/", 'it can\'t end with "/"'],
  ["/x", 'it can\'t start with "/"'],
  ["a//b", 'it contains "//"'],
  ["x.", 'it can\'t end with "."'],
];

describe("refProblem: git's ref-name rules", () => {
  it.each(ROWS)("%j -> %j", (ref, problem) => {
    expect(refProblem(ref)).toBe(problem);
  });

  it.each(ROWS)("%j agrees with git check-ref-format --branch", (ref) => {
    let gitOk = true;
    try {
      execFileSync("git", ["check-ref-format", "--branch", ref], { stdio: "ignore" });
    } catch {
      gitOk = false;
    }
    expect(isRef(ref)).toBe(gitOk);
  });

  it("refuses refs over 200 characters", () => {
    expect(refProblem("a".repeat(201))).toBe("it is 201 characters long; the limit is 200");
    expect(isRef("a".repeat(200))).toBe(true);
  });
});

describe("the grammar deploys every ref git accepts", () => {
  it.each([
    ["deploy app local v1.0.0+build.5", "v1.0.0+build.5"],
    ["deploy app local renovate/@babel/core-7.x", "renovate/@babel/core-7.x"],
    ["deploy app@@scope/pkg to local", "@scope/pkg"],
    ["deploy app/renovate/@types/node to local", "renovate/@types/node"],
  ])("%j -> ref %j", (text, ref) => {
    expect(parse(text, {})).toEqual({ ok: true, command: { kind: "deploy", app: text.split(/[ @/]/)[1], env: "local", ref, force: false } });
  });

  it("a bound channel takes a scoped branch as a ref of its app", () => {
    expect(parse("deploy @scope/pkg", { app: "web", env: "production" })).toEqual({ ok: true, command: { kind: "deploy", app: "web", env: "production", ref: "@scope/pkg", force: false } });
  });
});
