import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { plural } from "../../lib/plural.ts";

const ROOT = resolve(import.meta.dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

// Issue 11 item 7 and its trial ("1 hosts"): counted nouns come from lib/plural.ts, one rule.
describe("plurals", () => {
  it.each<[number, string, string | undefined, string]>([
    [1, "host", undefined, "1 host"],
    [0, "host", undefined, "0 hosts"],
    [2, "proc", undefined, "2 procs"],
    [1, "orphan program", undefined, "1 orphan program"],
    [3, "process", "processes", "3 processes"],
  ])("plural(%d, %s) = %s", (n, word, many, text) => expect(plural(n, word, many)).toBe(text));

  it("no message in the code makes its own plural (`x${n === 1 ? \"\" : \"s\"}`) or counts a fixed plural (`${n} hosts`)", () => {
    const handMade = /=== 1 \? "" : "s"|\$\{[^}]*(?:\.length|[cC]ount)\} (?:procs|hosts|nodes|servers|releases|deployments|lines|checks|programs)\b/;
    const offenders = ["bot", "engine", "runners", "balancers", "playbooks", "db", "bin"]
      .flatMap((d) => sources(join(ROOT, d)))
      .flatMap((f) => readFileSync(f, "utf8").split("\n").map((line, i) => [`${relative(ROOT, f)}:${i + 1}`, line] as const))
      // A line that spells out its singular itself (`n === 1 ? "proc x" : `${n} procs``) is right as it is.
      .filter(([, line]) => handMade.test(line) && !/=== 1 \? [`"][^"`]/.test(line))
      .map(([where, line]) => `${where}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });
});
