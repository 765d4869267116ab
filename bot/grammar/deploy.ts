import type { Command, ParseContext } from "../command.ts";
import { checkApp, checkEnv, ident, knownApps, ref } from "./names.ts";
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
    if (!b.app) fail(`${verb} to ${env}: which app? e.g. \`${verb} web to ${env}\`.`);
    const r = words[2] ? ref(words[2].text) : undefined;
    noMore(words.slice(3), "deploy");
    return deploy(b.app, checkEnv(b.app, env, ctx), r, force);
  }

  if (w0 && /[@/]/.test(w0.text)) {
    const at = w0.text.indexOf("@");
    const cut = at >= 0 ? at : w0.text.indexOf("/");
    const appPart = w0.text.slice(0, cut);
    // "feature/x" alone in a bound channel is a branch of the bound app, unless "feature" is an app.
    const named = at >= 0 || !(b.app && b.env) || appPart === b.app || (knownApps(ctx)?.includes(appPart) ?? false);
    if (named) return appAtRef(w0.text, cut, words.slice(1), ctx, force);
  }

  let rest = words;
  if (w0 && w1?.text === "to") {
    const app = ident(w0.text, "app name");
    if (!words[2]) fail(`${verb} ${app} to: which environment? e.g. \`${verb} ${app} to production\`.`);
    rest = [w0, ...words.slice(2)];
  }
  const t = resolveTarget(verb, "deploy", rest, ctx, (r) => r.length <= 1);
  const r = t.rest[0] ? ref(t.rest[0].text) : undefined;
  noMore(t.rest.slice(1), "deploy");
  return deploy(t.app, t.env, r, force);
}

function appAtRef(word: string, cut: number, after: Word[], ctx: ParseContext, force: boolean): Deploy {
  const verb = force ? "deploy!" : "deploy";
  const sep = word[cut]!;
  const appPart = word.slice(0, cut);
  const refPart = word.slice(cut + 1);
  if (appPart === "") fail(`${show(word)} has no app before "${sep}", e.g. \`${verb} web${sep}v1.4.2 to production\`.`);
  const app = checkApp(ident(appPart, "app name"), ctx);
  if (refPart === "") fail(`${show(word)} has no ref after "${sep}", e.g. \`${verb} ${app}${sep}v1.4.2 to production\`.`);
  const r = ref(refPart);
  let rest = after;
  if (rest[0]?.text === "to") rest = rest.slice(1);
  const b = binding(ctx);
  if (!rest[0]) {
    if (b.app === app && b.env) return deploy(app, b.env, r, force);
    fail(`${verb} ${word}: which environment? e.g. \`${verb} ${word} to production\`.`);
  }
  const env = checkEnv(app, ident(rest[0].text, "environment name"), ctx);
  noMore(rest.slice(1), "deploy");
  return deploy(app, env, r, force);
}

function deploy(app: string, env: string, r: string | undefined, force: boolean): Deploy {
  return r === undefined ? { kind: "deploy", app, env, force } : { kind: "deploy", app, env, ref: r, force };
}
