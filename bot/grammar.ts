import type { Command, ParseContext, ParseResult } from "./command.ts";
import { ALIASES, VERBS } from "./help.ts";
import { didYouMean } from "../lib/suggest.ts";
import { parseConfig } from "./grammar/config.ts";
import { parseDeploy } from "./grammar/deploy.ts";
import { knownApps } from "./grammar/names.ts";
import {
  parseDecision,
  parseHelp,
  parseHosts,
  parseLock,
  parseLogs,
  parseReleases,
  parseRestart,
  parseRollback,
  parseScale,
  parseStatus,
  parseUnlock,
} from "./grammar/verbs.ts";
import { noMore } from "./grammar/target.ts";
import { parsePlan, parsePromote } from "./grammar/plan.ts";
import { parseDeploys, parseWhoDeployed } from "./grammar/history.ts";
import { charCount, charProblem, fail, GrammarError, MAX_LENGTH, normalize, show, splitWords, type Word } from "./grammar/words.ts";

/**
 * The chat grammar (DESIGN.md, "Commands"): text -> Command, or an error that says what was wrong
 * and what would work. Pure: no I/O, no clock; the context carries the channel binding and,
 * optionally, the known app and environment names.
 *
 * Order of work: the length limit (on the raw text, before anything else), Slack markup
 * (mentions, autolinks, `&amp;` `&lt;` `&gt;`), words split on whitespace, then the verb. Verbs are
 * matched case-insensitively (phones capitalize the first word); names are not. Command words must
 * be printable ASCII; reasons and quoted config values may hold any printable text.
 * Name checks against `context.apps` / `context.envs` happen only when those are given.
 */
export function parse(text: string, context: ParseContext = {}): ParseResult {
  try {
    return { ok: true, command: parseOrFail(typeof text === "string" ? text : "", context ?? {}) };
  } catch (e) {
    // Only grammar errors are answers; anything else is a bug and must surface in tests.
    if (e instanceof GrammarError) return { ok: false, error: e.message };
    throw e;
  }
}

export { MAX_LENGTH } from "./grammar/words.ts";
export { MAX_LOG_LINES, MAX_SCALE } from "./grammar/verbs.ts";

const VERB_SET: ReadonlySet<string> = new Set(VERBS);

function parseOrFail(raw: string, ctx: ParseContext): Command {
  const length = charCount(raw);
  if (length > MAX_LENGTH) fail(`command is too long (${length} characters; the limit is ${MAX_LENGTH}).`);
  const { text, mentioned } = normalize(raw);
  const words = splitWords(text);
  const first = words[0];
  if (!first) {
    fail(mentioned ? "there is no command after the mention. Type `help` for the list of commands." : "there is no command here. Type `help` for the list of commands.");
  }
  const chars = charProblem(first.text);
  if (chars) fail(chars);

  let verb = first.text.toLowerCase();
  let args = words.slice(1);
  if (!VERB_SET.has(verb)) {
    // "<app> <env> deploy [<ref>]": the word order some teams type.
    const third = words[2]?.text.toLowerCase();
    if (third !== "deploy" && third !== "deploy!") unknownVerb(first.text, ctx);
    verb = third;
    args = [words[0]!, words[1]!, ...words.slice(3)];
  }
  return parseVerb(canonical(verb), args, text, ctx);
}

/** The verb an alias stands for; `deploy!`, `scale!` and `rollback!` stay themselves (they set a flag). */
function canonical(verb: string): string {
  return Object.hasOwn(ALIASES, verb) && verb !== "deploy!" && verb !== "scale!" && verb !== "rollback!" ? ALIASES[verb]! : verb;
}

function unknownVerb(word: string, ctx: ParseContext): never {
  if (knownApps(ctx)?.includes(word)) {
    fail(`unknown command "${word}". To deploy ${word}, type \`deploy ${word} <env>\`; \`help\` lists the commands.`);
  }
  fail(`unknown command ${show(word)}.${didYouMean(word, VERBS)} Type \`help\` for the list.`);
}

function parseVerb(verb: string, words: Word[], text: string, ctx: ParseContext): Command {
  switch (verb) {
    case "deploy":
      return parseDeploy(words, ctx, false);
    case "deploy!":
      return parseDeploy(words, ctx, true);
    case "rollback":
      return parseRollback(words, ctx);
    case "rollback!":
      return { ...parseRollback(words, ctx), confirmed: true };
    case "scale":
      return parseScale(words, ctx);
    case "scale!":
      return { ...parseScale(words, ctx), confirmed: true };
    case "restart":
      return parseRestart(words, ctx);
    case "status":
      return parseStatus(words, ctx);
    case "releases":
      return parseReleases(words, ctx);
    case "logs":
      return parseLogs(words, ctx);
    case "config":
      return parseConfig(words, text, ctx);
    case "lock":
      return parseLock(words, text, ctx);
    case "unlock":
      return parseUnlock(words, ctx);
    case "approve":
    case "reject":
    case "cancel":
    case "show":
      return parseDecision(verb, words, text);
    case "hosts":
      return parseHosts(words);
    case "help":
      return parseHelp(words);
    case "plan":
      return parsePlan(words, (v, rest) => parseVerb(canonical(v), rest, text, ctx));
    case "promote":
      return parsePromote(words, ctx);
    case "deploys":
      return parseDeploys(words, ctx);
    case "who-deployed":
      return parseWhoDeployed(words, ctx);
    case "apps":
    case "queue":
    case "beat":
      noMore(words, verb);
      return { kind: verb };
    default:
      // VERBS and this switch must agree; a verb without a case is a bug, not a user error.
      throw new Error(`grammar: no parser for verb "${verb}"`);
  }
}
