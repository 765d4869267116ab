import type { Command, ParseContext } from "../command.ts";
import { reservedEnvKeyProblem } from "../../lib/names.ts";
import { shortSecretProblem } from "../../lib/redact.ts";
import { configKey, exampleTarget } from "./names.ts";
import { ENV_KEY } from "../../lib/names.ts";
import { binding, noMore, resolveTarget, type Target } from "./target.ts";
import { charProblem, codePoint, fail, freeTextProblem, isSpace, QUOTES, show, type Word } from "./words.ts";

/**
 * config <app> <env>
 * config set <app> <env> KEY=VALUE ...     values may be quoted ("...", '...', “...”, ‘...’)
 * config secret <app> <env> KEY=VALUE ...  the same as set, and the values are masked everywhere
 * config unset <app> <env> KEY ...
 * In a bound channel the app and environment can be left out when the next word is a KEY=VALUE
 * (set) or all words are keys (unset) — see target.ts for the rule.
 */
export function parseConfig(words: Word[], text: string, ctx: ParseContext): Command {
  const sub = words[0]?.text;
  if (sub === "set") return parseSet(words.slice(1), text, ctx, false);
  if (sub === "secret") return parseSet(words.slice(1), text, ctx, true);
  if (sub === "unset") return parseUnset(words.slice(1), ctx);
  const t = resolveTarget("config", "config", words, ctx, (r) => r.length === 0);
  noMore(t.rest, "config", t);
  return { kind: "config", app: t.app, env: t.env };
}

function bound(verb: string, topic: string, ctx: ParseContext, words: Word[]): Target {
  const b = binding(ctx);
  if (b.app && b.env) return { app: b.app, env: b.env, rest: words };
  fail(`${verb} needs an app and an environment first (this channel is not bound to one), e.g. \`${verb} ${exampleTarget(ctx)} ${words[0]?.text.includes("=") ? "LOG_LEVEL=debug" : "LOG_LEVEL"}\`.`);
}

function parseSet(words: Word[], text: string, ctx: ParseContext, secret: boolean): Command {
  const verb = secret ? "config secret" : "config set";
  const t = words[0]?.text.includes("=")
    ? bound(verb, "config-set", ctx, words)
    : resolveTarget(verb, "config-set", words, ctx, (r) => r[0]?.text.includes("=") ?? false);
  const first = t.rest[0];
  if (!first) fail(`${verb} ${t.app} ${t.env} needs KEY=VALUE pairs, e.g. \`${verb} ${t.app} ${t.env} ${secret ? "API_TOKEN=tok-8f3a2c91" : "LOG_LEVEL=debug"}\`.`);
  const vars = assignments(text.slice(first.start));
  for (const key of Object.keys(vars)) {
    const reserved = reservedEnvKeyProblem(key);
    if (reserved) fail(`${verb}: ${key} ${reserved}.`);
  }
  for (const [key, value] of Object.entries(vars)) {
    const short = shortSecretProblem(verb, key, value, secret);
    if (short) fail(short);
  }
  return secret ? { kind: "config-set", app: t.app, env: t.env, vars, secret: true } : { kind: "config-set", app: t.app, env: t.env, vars };
}

function parseUnset(words: Word[], ctx: ParseContext): Command {
  const allKeys = (r: Word[]) => r.length > 0 && r.every((w) => ENV_KEY.test(w.text));
  const t = resolveTarget("config unset", "config-unset", words, ctx, allKeys);
  if (t.rest.length === 0) fail(`config unset ${t.app} ${t.env} needs the keys to remove, e.g. \`config unset ${t.app} ${t.env} LOG_LEVEL\`.`);
  const keys: string[] = [];
  for (const w of t.rest) {
    const key = configKey(w.text);
    if (keys.includes(key)) fail(`${key} is given twice; name each key once.`);
    keys.push(key);
  }
  return { kind: "config-unset", app: t.app, env: t.env, keys };
}

/**
 * Reads `KEY=VALUE KEY="a value" ...` from `s`. A value that starts with a quote runs to the
 * matching closing quote and may hold spaces and any printable character; an unquoted value runs
 * to the next space and must be printable ASCII. Values are data (never shell text), so `;`, `&`,
 * `$` are fine in them.
 */
export function assignments(s: string): Record<string, string> {
  const vars: Record<string, string> = {};
  let i = 0;
  let previous: string | undefined;
  for (;;) {
    const from = i;
    while (isSpace(s[i])) i++;
    if (i >= s.length) return vars;
    // Pairs may sit on lines of their own; a line that is not a pair most likely is the rest of a
    // value that went over two lines (red-team finding 10: "line2" has no value).
    const afterBreak = previous !== undefined && LINE_BREAK.test(s.slice(from, i));
    let j = i;
    while (j < s.length && s[j] !== "=" && !isSpace(s[j])) j++;
    const keyText = s.slice(i, j);
    if (s[j] !== "=") {
      if (afterBreak) fail(multiLine(previous!));
      const chars = charProblem(keyText);
      if (chars) fail(chars);
      fail(`${show(keyText)} has no value: write KEY=VALUE, e.g. \`LOG_LEVEL=debug\` (to remove a key, use \`config unset\`).`);
    }
    if (keyText === "") fail(`"=" needs a key before it, e.g. \`LOG_LEVEL=debug\`.`);
    const key = configKey(keyText);
    i = j + 1;
    const open = s[i];
    let value: string;
    if (open !== undefined && Object.hasOwn(QUOTES, open)) {
      const closers = QUOTES[open]!;
      let end = i + 1;
      while (end < s.length && !closers.includes(s[end]!)) end++;
      if (end >= s.length) fail(`the value of ${key} opens a quote (${open}) that is never closed.`);
      value = s.slice(i + 1, end);
      i = end + 1;
      if (i < s.length && !isSpace(s[i])) fail(`the value of ${key} goes on after its closing quote; put a space between KEY=VALUE pairs.`);
      // Inside quotes the text is kept exactly: runs of spaces, tabs, curly apostrophes.
      if (LINE_BREAK.test(value)) fail(multiLine(key));
      const problem = freeTextProblem(value, `the value of ${key}`, { tabs: true });
      if (problem) fail(problem);
    } else {
      j = i;
      while (j < s.length && !isSpace(s[j])) j++;
      value = s.slice(i, j);
      i = j;
      const problem = freeTextProblem(value, `the value of ${key}`);
      if (problem) fail(problem);
      const wide = Array.from(value).find((ch) => ch > "\x7e");
      if (wide) fail(`the value of ${key} contains "${wide}" (${codePoint(wide)}); put a value with non-ASCII characters in quotes, e.g. \`${key}="…"\`.`);
    }
    if (Object.hasOwn(vars, key)) fail(`${key} is given twice; set each key once.`);
    // defineProperty, not assignment: a key named __proto__ must become a property, not a prototype.
    Object.defineProperty(vars, key, { value, enumerable: true, writable: true, configurable: true });
    previous = key;
  }
}

/** Line breaks as chat clients send them (Slack's Shift+Enter is \n; U+2028/2029 from pasted text). */
const LINE_BREAK = /[\n\r\u0085\u2028\u2029]/;

function multiLine(key: string): string {
  return `the value of ${key} goes over a line break: a config value is one line. Write it on one line; each KEY=VALUE pair may have a line of its own.`;
}
