import type { Command, ParseContext } from "../command.ts";
import { checkApp, checkEnv, defaultEnv, exampleEnv, exampleNames, ident, knownApps, ref } from "./names.ts";
import { binding, noMore, resolveTarget } from "./target.ts";
import { fail, show, type Word } from "./words.ts";

type Deploy = Extract<Command, { kind: "deploy" }>;

/**
 * deploy [!] <app> [to] <env> [<ref>]
 * deploy [!] <app>@<ref> [to] <env>      deploy web@v1.4.2 to production
 * deploy [!] <app>/<ref> [to] <env>      the first "/" splits; the ref may hold more slashes
 * deploy [!] to <env> [<ref>]            the channel's app, another environment
 * deploy [!] [<ref>]                     the channel's app and environment
 * (`<app> <env> deploy [<ref>]` is reordered into the first form by the caller.)
 */
export function parseDeploy(words: Word[], ctx: ParseContext, force: boolean): Deploy {
  const b = binding(ctx);
  const [w0, w1] = words;
  const verb = force ? "deploy!" : "deploy";

  if (w0?.text === "to" && !w1) fail(`${verb} to: which environment? e.g. \`${verb} to staging\`.`);
  if (w0?.text === "to" && w1) {
    const env = ident(w1.text, "environment name");
    if (!b.app) fail(`${verb} to ${env}: which app? e.g. \`${verb} ${exampleNames(ctx).app} to ${env}\`.`);
    const r = refThenEnd(words.slice(2));
    return deploy(b.app, checkEnv(b.app, env, ctx), r, force);
  }

  if (w0 && /[@/]/.test(w0.text)) {
    // The first "@" or "/" splits app from ref; the ref may hold more of both (`web/renovate/@types/node`).
    const cut = w0.text.search(/[@/]/);
    const appPart = w0.text.slice(0, cut);
    // "feature/x" alone in a bound channel is a branch of the bound app, unless "feature" is an app.
    const bound = Boolean(b.app && b.env);
    const named = (w0.text[cut] === "@" && !(cut === 0 && bound)) || !bound || appPart === b.app || (knownApps(ctx)?.includes(appPart) ?? false);
    if (named) return appAtRef(w0.text, cut, words.slice(1), ctx, force);
  }

  let rest = words;
  if (w0 && w1?.text === "to") {
    const app = ident(w0.text, "app name");
    if (!words[2]) fail(`${verb} ${app} to: which environment? e.g. \`${verb} ${app} to production\`.`);
    rest = [w0, ...words.slice(2)];
  }
  const t = resolveTarget(verb, "deploy", rest, ctx, (r) => r.length <= 1);
  const r = refThenEnd(t.rest);
  return deploy(t.app, t.env, r, force);
}

/**
 * The optional ref and nothing after it. Git accepts `&&`, `|` or `$(id)` as ref names (they are
 * data: refs reach git as argv), but one followed by more words is a shell line, and is named so.
 */
function refThenEnd(words: Word[]): string | undefined {
  const w = words[0];
  if (!w) return undefined;
  if (words.length > 1 && /^[;&|<>$`(]/.test(w.text)) noMore(words, "deploy");
  const r = ref(w.text);
  noMore(words.slice(1), "deploy");
  return r;
}

function appAtRef(word: string, cut: number, after: Word[], ctx: ParseContext, force: boolean): Deploy {
  const verb = force ? "deploy!" : "deploy";
  const sep = word[cut]!;
  const appPart = word.slice(0, cut);
  const refPart = word.slice(cut + 1);
  if (appPart === "") fail(`${show(word)} has no app before "${sep}", e.g. \`${verb} ${exampleNames(ctx).app}${sep}v1.4.2 to ${exampleNames(ctx).env}\`.`);
  const app = checkApp(ident(appPart, "app name"), ctx);
  if (refPart === "") fail(`${show(word)} has no ref after "${sep}", e.g. \`${verb} ${app}${sep}v1.4.2 to ${exampleEnv(ctx, app)}\`.`);
  const r = ref(refPart);
  let rest = after;
  if (rest[0]?.text === "to") rest = rest.slice(1);
  const b = binding(ctx);
  if (!rest[0]) {
    if (b.app === app && b.env) return deploy(app, b.env, r, force);
    const fallback = defaultEnv(ctx, app);
    if (fallback !== undefined) return deploy(app, fallback, r, force);
    fail(`${verb} ${word}: which environment? e.g. \`${verb} ${word} to ${exampleEnv(ctx, app)}\`.`);
  }
  const env = checkEnv(app, ident(rest[0].text, "environment name"), ctx);
  noMore(rest.slice(1), "deploy", { app, env });
  return deploy(app, env, r, force);
}

function deploy(app: string, env: string, r: string | undefined, force: boolean): Deploy {
  return r === undefined ? { kind: "deploy", app, env, force } : { kind: "deploy", app, env, ref: r, force };
}
