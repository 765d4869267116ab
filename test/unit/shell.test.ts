import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { InvalidEnvKeyError, remoteCommand, shellJoin, shellQuote } from "../../runners/shell.ts";

describe("shellQuote", () => {
  it.each([
    ["plain", "plain"],
    ["/apps/procs/web-1", "/apps/procs/web-1"],
    ["KEY=value", "KEY=value"],
    ["user@host:22", "user@host:22"],
    ["a,b+c%d", "a,b+c%d"],
    ["", "''"],
    ["a b", "'a b'"],
    ["it's", "'it'\\''s'"],
    ["'", "''\\'''"],
    ["$HOME", "'$HOME'"],
    ["$(id)", "'$(id)'"],
    ["`id`", "'`id`'"],
    ["a;b", "'a;b'"],
    ["*.txt", "'*.txt'"],
    ["a?b[c]", "'a?b[c]'"],
    ["~root", "'~root'"],
    ["line1\nline2", "'line1\nline2'"],
    ["héllo", "'héllo'"],
    ["a|b&c>d<e", "'a|b&c>d<e'"],
    ["-rf", "-rf"],
    ['say "hi"', `'say "hi"'`],
    ["back\\slash", "'back\\slash'"],
  ])("%j -> %s", (arg, expected) => {
    expect(shellQuote(arg)).toBe(expected);
  });

  it("refuses NUL, which no argv can carry", () => {
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
  });
});

describe("shellJoin", () => {
  it.each<[string[], string]>([
    [["ls", "-l", "/apps"], "ls -l /apps"],
    [["echo", "a b", ""], "echo 'a b' ''"],
    [["supervisorctl", "start", "web:*"], "supervisorctl start 'web:*'"],
    // The command position: reserved words and assignments are quoted so they run as commands.
    [["if", "x"], "'if' x"],
    [["!", "x"], "'!' x"],
    [["A=b", "c"], "'A=b' c"],
    [["env", "A=b", "c"], "env A=b c"],
    [[], ""],
  ])("%j -> %s", (argv, expected) => {
    expect(shellJoin(argv)).toBe(expected);
  });
});

describe("remoteCommand", () => {
  it.each<[string[], Parameters<typeof remoteCommand>[1], string]>([
    [["ls"], {}, "ls"],
    [["ls", "-l"], { cwd: "/apps" }, "cd /apps && ls -l"],
    [["ls"], { cwd: "/my apps" }, "cd '/my apps' && ls"],
    [["ls"], { cwd: "-odd" }, "cd ./-odd && ls"],
    [["node", "app.js"], { env: { PORT: "5000", NODE_ENV: "production" } }, "env PORT=5000 NODE_ENV=production node app.js"],
    [["run"], { env: { MSG: "it's $(bad)" }, cwd: "/a" }, "cd /a && env 'MSG=it'\\''s $(bad)' run"],
    [["run"], { env: {} }, "run"],
  ])("%j %j -> %s", (argv, opts, expected) => {
    expect(remoteCommand(argv, opts)).toBe(expected);
  });

  it.each(["1A", "A-B", "A B", "", "A=B", "$(id)", "é"])("rejects env key %j", (key) => {
    expect(() => remoteCommand(["true"], { env: { [key]: "v" } })).toThrow(InvalidEnvKeyError);
  });

  it("rejects an empty argv and an empty cwd", () => {
    expect(() => remoteCommand([])).toThrow(/empty argv/);
    expect(() => remoteCommand(["ls"], { cwd: "" })).toThrow(/empty cwd/);
  });
});

/** Arguments that would each do damage if they reached a shell unquoted. */
const HOSTILE: string[][] = [
  ["'"],
  ["''", "'\\''"],
  ['"', '\\"', "\\"],
  ["$(touch /tmp/raptor-pwned)", "`touch /tmp/raptor-pwned`", "${HOME}", "$HOME", "$1", "$@", "$$"],
  ["a; touch /tmp/raptor-pwned", "a && b", "a || b", "a | b", "a & b", "(sub)", "{a,b}"],
  ["line1\nline2", "\n", "\r\n", "\t", " leading", "trailing ", "  "],
  ["*", "?", "[a-z]", "/*", "~", "~root", "!", "!!", "#comment", "a#b"],
  ["héllo wörld", "日本語", "emoji 🦖", "\u00a0nbsp", "\u202eRLO"],
  ["", "", "x"],
  ["-rf", "--", "-n", "-e", "--help"],
  ["<in", ">out", "2>&1", ">>", "<<EOF"],
  ["%s", "%b", "\\x41", "\\0"],
];

/** What `sh` sees: each argument NUL-terminated by printf, read back without a shell in between. */
function throughShell(argv: string[]): string[] {
  const out = execFileSync("sh", ["-c", `printf '%s\\0' ${shellJoin(argv)}`], { encoding: "utf8" });
  const parts = out.split("\0");
  parts.pop(); // after the last terminator
  return parts;
}

describe("hostile arguments round-trip through a real sh", () => {
  it.each(HOSTILE.map((argv) => [argv]))("%j", (argv) => {
    expect(throughShell(argv)).toEqual(argv);
  });

  it("as a command line built by remoteCommand, with env and cwd", () => {
    for (const argv of HOSTILE) {
      const line = remoteCommand(["sh", "-c", `printf '%s\\0' "$V" "$@"`, "sh", ...argv], {
        env: { V: argv.join("|") },
        cwd: "/",
      });
      const out = execFileSync("sh", ["-c", line], { encoding: "utf8" }).split("\0");
      out.pop();
      expect(out).toEqual([argv.join("|"), ...argv]);
    }
  });
});
