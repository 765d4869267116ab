import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import * as names from "../../lib/names.ts";

/**
 * Issue 7 item 7: one pattern per kind of name, in lib/names.ts, imported by every layer. A copy
 * written out again elsewhere (a commit sha in the job catalog, a pool name in a backend) drifts
 * from the original unnoticed; this scan finds it.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const DIRS = ["bin", "bot", "engine", "runners", "balancers", "playbooks", "db", "lib"];
const files = DIRS.flatMap((d) =>
  readdirSync(join(ROOT, d), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name))),
).filter((f) => f !== "lib/names.ts");
const patterns = Object.entries(names).filter((e): e is [string, RegExp] => e[1] instanceof RegExp);
/** PROC_TYPE is IDENT by design: the same source under two names in lib/names.ts itself. */
const first = new Map<string, string>();
for (const [name, re] of patterns) if (!first.has(re.source)) first.set(re.source, name);
const sources = [...first.entries()];

describe("one pattern per kind of name (lib/names.ts)", () => {
  it("exports the patterns", () => {
    expect(sources.map(([, name]) => name)).toEqual(expect.arrayContaining(["IDENT", "ENV_NAME", "ENV_KEY", "COMMIT_SHA", "POOL_NAME", "UNIX_NAME"]));
  });

  it.each(sources)("%s is written out nowhere else", (source, name) => {
    const copies = files.filter((f) => readFileSync(join(ROOT, f), "utf8").includes(`/${source}/`));
    expect(copies, `${name} is copied; import it from lib/names.ts`).toEqual([]);
  });

  it.each<[string, RegExp, string, boolean]>([
    ["COMMIT_SHA", names.COMMIT_SHA, "a".repeat(40), true],
    ["COMMIT_SHA", names.COMMIT_SHA, "a".repeat(64), true],
    ["COMMIT_SHA", names.COMMIT_SHA, "a".repeat(50), false],
    ["COMMIT_SHA", names.COMMIT_SHA, "abc1234", false],
    ["COMMIT_SHA", names.COMMIT_SHA, "A".repeat(40), false],
    ["POOL_NAME", names.POOL_NAME, "web_production", true],
    ["POOL_NAME", names.POOL_NAME, "web.prod-1", true],
    ["POOL_NAME", names.POOL_NAME, "-web", false],
    ["POOL_NAME", names.POOL_NAME, "web prod", false],
    ["UNIX_NAME", names.UNIX_NAME, "raptor-hello", true],
    ["UNIX_NAME", names.UNIX_NAME, "_svc", true],
    ["UNIX_NAME", names.UNIX_NAME, "1app", false],
    ["UNIX_NAME", names.UNIX_NAME, "Root", false],
  ])("%s %j -> %s", (_, re, value, ok) => {
    expect(re.test(value)).toBe(ok);
  });
});
