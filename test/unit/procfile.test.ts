import { describe, expect, it } from "vitest";
import { withoutVerbatimMarks } from "../../lib/verbatim.ts";
import { parseProcfile, ProcfileError } from "../../engine/builds/procfile.ts";
import { parseRelease } from "../../engine/builds/buildpack.ts";

describe("parseProcfile", () => {
  const ok: [string, string, Record<string, string>][] = [
    ["one web line", "web: node server.js", { web: "node server.js" }],
    ["two types", "web: node server.js\nworker: node worker.js\n", { web: "node server.js", worker: "node worker.js" }],
    ["comments and blank lines", "# the web\n\nweb: npm start\n   \n  # indented comment\n", { web: "npm start" }],
    ["CRLF line endings", "web: a\r\nworker: b\r\n", { web: "a", worker: "b" }],
    ["colons inside the command", "web: node -e 'console.log(1)' --url=http://x:1", { web: "node -e 'console.log(1)' --url=http://x:1" }],
    ["no space after colon", "web:node s.js", { web: "node s.js" }],
    ["space before colon", "web : node s.js", { web: "node s.js" }],
    ["names with digits, _ and -", "web-2: a\nq_1: b\n9: c", { "web-2": "a", q_1: "b", "9": "c" }],
    ["empty file", "", {}],
    ["only comments", "# nothing\n", {}],
  ];
  it.each(ok)("%s", (_name, text, want) => {
    expect(parseProcfile(text)).toEqual(want);
  });

  const bad: [string, string, number, RegExp][] = [
    ["no colon", "web: a\nworker node w.js", 2, /expected `<type>: <command>`/],
    ["uppercase name", "Web: a", 1, /proc type `Web`/],
    ["leading dash", "# c\n\n-web: a", 3, /proc type `-web`/],
    ["space in name", "my web: a", 1, /proc type `my web`/],
    ["empty command", "web: a\nworker:   ", 2, /has no command/],
    ["empty name", ": a", 1, /proc type ``/],
    ["defined twice", "web: a\nweb: b", 2, /defined twice/],
    ["too long a name", `${"a".repeat(64)}: x`, 1, /at most 63/],
  ];
  it.each(bad)("%s is an error with its line number", (_name, text, line, msg) => {
    let err: unknown;
    try {
      parseProcfile(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProcfileError);
    expect((err as ProcfileError).line).toBe(line);
    expect((err as ProcfileError).message).toMatch(new RegExp(`^Procfile line ${line}: `));
    expect(withoutVerbatimMarks((err as ProcfileError).message)).toMatch(msg);
    expect((err as ProcfileError).code).toBe("build_failed");
  });
});

describe("parseRelease", () => {
  it.each([
    ["empty output", "", { defaultProcessTypes: {}, configVars: {} }],
    ["empty mapping", "--- {}", { defaultProcessTypes: {}, configVars: {} }],
    [
      "both sections",
      "---\nconfig_vars:\n  NODE_ENV: production\n  N: 3\ndefault_process_types:\n  web: npm start\naddons: []\n",
      { defaultProcessTypes: { web: "npm start" }, configVars: { NODE_ENV: "production", N: "3" } },
    ],
  ])("%s", (_n, text, want) => {
    expect(parseRelease(text)).toEqual(want);
  });
  it.each([["a list", "- a\n- b"], ["nested value", "config_vars:\n  A: {b: 1}"], ["bad yaml", "a: [\n"]])("%s is an error", (_n, text) => {
    expect(() => parseRelease(text)).toThrow(/bin\/release/);
  });
});
