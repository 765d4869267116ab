import type { ParseContext } from "../command.ts";
import { exampleFor, usageFor } from "../help.ts";
import { checkApp, checkEnv, defaultEnv, exampleEnv, exampleNames, ident, isIdent, knownApps, knownEnvs } from "./names.ts";
import { charProblem, fail, show, type Word } from "./words.ts";

/**
 * Which app and environment a command is about: named in the command, or taken from the
 * channel's binding (`context.app` / `context.env`, from the playbook).
 *
 * The binding is used conservatively, in this order:
 *  1. If the first two words can be an app and an environment, they are, and the binding is
 *     ignored. "Can be" means both match the identifier pattern, the second is not a number
 *     (`v41`, `200`: release and line counts are never taken for environment names here), and,
 *     when the context lists apps and environments, they are a known app and one of its
 *     environments.
 *  2. Otherwise, if the first word is the bound app itself (`restart web` in the web channel), the
 *     bound environment fills in, provided the words after it fit the verb's short form.
 *  3. Otherwise, if all the words fit the verb's short form (`restart worker`, `scale web=6`), the
 *     binding fills in app and environment — unless the first word is another known app, which
 *     means the person named an app and forgot the environment.
 *  4. Otherwise the words are read as `<app> <env> ...` and the first problem is reported.
 * Known limits of the rule: without `context.apps`, `restart web worker` in the web channel means
 * environment "worker" (rule 1 wins); a misspelt app in a short form (`restart wbe`) is read as a
 * proc type, and `lock wbe production` as a reason — dispatch then reports the unknown proc, and a
 * lock is the safe direction to err in.
 */

export interface Binding {
  app?: string;
  env?: string;
}

/** The channel binding, ignoring values that are not valid names (a playbook bug must not widen a command). */
export function binding(ctx: ParseContext): Binding {
  const b: Binding = {};
  if (typeof ctx.app === "string" && isIdent(ctx.app)) b.app = ctx.app;
  if (typeof ctx.env === "string" && isIdent(ctx.env)) b.env = ctx.env;
  return b;
}

export interface Target {
  app: string;
  env: string;
  /** The words after the app and environment (all of them when the binding filled in). */
  rest: Word[];
}

function canBeAppEnv(app: string, env: string, ctx: ParseContext): boolean {
  if (!isIdent(app) || !isIdent(env) || /^v?\d+$/.test(env)) return false;
  const apps = knownApps(ctx);
  if (apps && !apps.includes(app)) return false;
  const envs = knownEnvs(ctx, app);
  return !envs || envs.includes(env);
}

/**
 * @param verb as shown in messages (`restart`, `config set`)
 * @param topic the help topic whose example errors quote
 * @param shortForm whether words (after the app and environment) fit the verb's form
 */
export function resolveTarget(
  verb: string,
  topic: string,
  words: Word[],
  ctx: ParseContext,
  shortForm: (rest: Word[]) => boolean,
): Target {
  const [w0, w1] = words;
  if (w0 && w1 && canBeAppEnv(w0.text, w1.text, ctx)) return { app: w0.text, env: w1.text, rest: words.slice(2) };
  const b = binding(ctx);
  if (b.app && b.env) {
    if (w0 && w0.text === b.app && shortForm(words.slice(1))) return { app: b.app, env: b.env, rest: words.slice(1) };
    const otherApp = w0 !== undefined && (knownApps(ctx)?.includes(w0.text) ?? false);
    if (!otherApp && shortForm(words)) return { app: b.app, env: b.env, rest: words };
  }
  return explicitTarget(verb, topic, words, ctx);
}

/** Reads `<app> <env>` from the first two words, failing on the first problem. */
export function explicitTarget(verb: string, topic: string, words: Word[], ctx: ParseContext): Target {
  const [w0, w1] = words;
  if (!w0) fail(`${verb} needs an app and an environment, e.g. \`${exampleFor(topic, exampleNames(ctx))}\`.`);
  const app = checkApp(ident(w0.text, "app name"), ctx);
  const fallback = defaultEnv(ctx, app);
  if (!w1 && fallback !== undefined) return { app, env: fallback, rest: [] };
  if (!w1) {
    const envs = knownEnvs(ctx, app);
    const sorted = [...(envs ?? [])].sort();
    const known = sorted.length > 0 ? ` Known environments: ${sorted.join(", ")}.` : "";
    const how = sorted.length > 1 ? ` (or set \`default_environment:\` for ${app} in the playbook)` : "";
    fail(`${verb} ${app} needs an environment, e.g. \`${verb} ${app} ${sorted[0] ?? exampleEnv(ctx, app)}\`.${known}${how}`);
  }
  // "logs web 200", "rollback web 41": a count or release where the environment belongs.
  if (/^v?\d+$/.test(w1.text) && (topic === "logs" || topic === "rollback")) {
    fail(`${verb} ${app} needs an environment before "${w1.text}", e.g. \`${verb} ${app} ${exampleEnv(ctx, app)} ${w1.text}\`.`);
  }
  const env = checkEnv(app, ident(w1.text, "environment name"), ctx);
  return { app, env, rest: words.slice(2) };
}

/** Fails on a word left over after a complete command. */
export function noMore(words: readonly Word[], topic: string, names?: { app: string; env: string }): void {
  const extra = words[0];
  if (!extra) return;
  const chars = charProblem(extra.text);
  if (chars) fail(chars);
  // "; rm -rf /", "&& echo", "| sh", "> file": say plainly that there is no shell to chain to.
  const shell = /^[;&|<>$`(]/.test(extra.text) ? " (commands are not shell lines: send one command per message)" : "";
  fail(`unexpected ${show(extra.text)} at the end${shell}. Usage: \`${usageFor(topic)}\`, e.g. \`${exampleFor(topic, names)}\`.`);
}
